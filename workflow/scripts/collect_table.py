"""Collect one attribute's rows of every metrics file into a table."""

from maskaudit.progress import setup_logging
from maskaudit.tables import collect
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0])
table = snakemake.wildcards.table
attribute = "overall" if table == "overall" else table.removeprefix("by_")
write_tsv(collect([read_tsv(p) for p in snakemake.input.metrics], attribute), snakemake.output.table)
