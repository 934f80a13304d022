"""Collect one table from every (model, dataset): rates by attribute, differentials, tests, ...

Nothing is recomputed across systems: Holm families and verdicts are fixed per (system, dataset) in
compute_metrics, so adding a model changes no other model's rows."""

import pandas as pd

from maskaudit.progress import setup_logging
from maskaudit.protocol.stage import read_thresholds, thresholds_rows
from maskaudit.tables import collect
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
if "thresholds" in snakemake.input.keys():
    out = pd.DataFrame(
        [r for p in snakemake.input.thresholds for r in thresholds_rows(read_thresholds(p))]
    )
else:
    out = collect([read_tsv(p) for p in snakemake.input.metrics])
    # the rows this table keeps (common.smk: METRIC_TABLES)
    for column, value in snakemake.params.rows.items():
        out = out[out[column] == value] if len(out) else out
write_tsv(out, snakemake.output.table)
