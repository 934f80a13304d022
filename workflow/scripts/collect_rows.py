"""Collect per-(system, dataset) result files of one stage into one table (rows in input order)."""

import pandas as pd

from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
frames = [read_tsv(p) for p in snakemake.input.parts]
write_tsv(
    pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), snakemake.output.table
)
