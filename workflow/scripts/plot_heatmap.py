"""Figure: re-identification failure rate, models x race groups, one panel per variant."""

from maskaudit.plots import heatmap, save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
table = read_tsv(snakemake.input.table)
save(heatmap(table[table.dataset == snakemake.wildcards.dataset]), snakemake.output.figure)
