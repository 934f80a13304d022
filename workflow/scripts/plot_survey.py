"""Figures of the human baseline: accuracy, humans vs systems, agreement, group gaps."""

from maskaudit.progress import setup_logging
from maskaudit.survey import plots
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
tables = {name: read_tsv(path) for name, path in snakemake.input.items()}
for name in snakemake.output.keys():
    plots.save(getattr(plots, name)(tables[name]), snakemake.output[name])
