"""Collect one attribute's rows of every metrics file into a table."""

import pandas as pd

from maskaudit.progress import setup_logging
from maskaudit.tables import read_table, write_table

setup_logging(snakemake.log[0])
table = snakemake.wildcards.table
attribute = "overall" if table == "overall" else table.removeprefix("by_")
frames = [read_table(p) for p in snakemake.input.metrics]
rows = pd.concat(frames, ignore_index=True)
write_table(rows[rows.attribute == attribute], snakemake.output.table)
