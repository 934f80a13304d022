"""The duplicate screen of every dataset in one table (maskaudit/protocol/images.py lists the columns)."""

import pandas as pd

from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
frames = [read_tsv(p, dtype={"dataset": str}) for p in snakemake.input.duplicates]
write_tsv(pd.concat(frames, ignore_index=True), snakemake.output.table)
