"""Figures of the mitigation stage: the before/after view, or the heads' training curves."""

from maskaudit.mitigation import plots
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
if snakemake.params.figure == "before_after":
    fig = plots.before_after(read_tsv(snakemake.input.table))
else:
    fig = plots.training_curves(
        {h: read_tsv(c) for h, c in zip(snakemake.params.heads, snakemake.input.curves)}
    )
plots.save(fig, snakemake.output.figure)
