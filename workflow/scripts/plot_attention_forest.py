"""Figure: forest plot of the attention shift per system, variant, region and group."""

from maskaudit.explain.figures import attention_forest
from maskaudit.plots import save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
table = read_tsv(snakemake.input.attention)
save(attention_forest(table[table.dataset == snakemake.wildcards.dataset]), snakemake.output.figure)
