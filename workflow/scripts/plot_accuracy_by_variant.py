"""Figure: accuracy at the operating threshold by mask variant and demographic group."""

import pandas as pd

from maskaudit.plots import accuracy_by_variant, save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0])
metrics = pd.concat([read_tsv(p) for p in snakemake.input.metrics], ignore_index=True)
save(accuracy_by_variant(metrics, value="accuracy"), snakemake.output.figure)
