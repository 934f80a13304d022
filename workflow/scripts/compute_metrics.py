"""Per-group accuracy, error rates and rank-k for one (model, dataset, variant)."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.progress import setup_logging
from maskaudit.scoring import read_scores
from maskaudit.tables import group_metrics
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0])
wc, variant, threshold = snakemake.wildcards, snakemake.params.variant, snakemake.params.threshold
rows = group_metrics(
    read_scores(snakemake.input.verification),
    read_scores(snakemake.input.identification),
    read_manifest(snakemake.input.manifest),
    threshold=-threshold,  # similarity scale: score = -distance
    fmr_target=snakemake.params.fmr_target,
    rank_k=snakemake.params.rank_k,
    labels={"model": wc.model, "dataset": wc.dataset, "variant": wc.variant, "mask_kind": variant["kind"],
            "mask_colour": variant["colour"], "threshold_distance": threshold},
)
write_tsv(rows, snakemake.output.metrics)
