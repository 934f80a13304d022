"""Rates, differentials, fairness, mask effects, clustering and the predeclared tests of one (system, dataset)."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.progress import setup_logging
from maskaudit.protocol.stage import load_scores, read_thresholds
from maskaudit.tables import audit_tables
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
wc, inp, params = snakemake.wildcards, snakemake.input, snakemake.params
scores = {
    v["id"]: load_scores(r, s, i, m)
    for v, r, s, i, m in zip(
        params.variants, inp.reidentification, inp.verification, inp.identification, inp.impostors
    )
}
tables = audit_tables(
    params.variants,
    scores,
    read_manifest(inp.manifest),
    read_thresholds(inp.thresholds),
    labels={"model": wc.model, "dataset": wc.dataset},
    dataset=wc.dataset,
    settings=params.settings,
)
for name, table in tables.items():
    write_tsv(table, snakemake.output[name])
