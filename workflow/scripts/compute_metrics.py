"""Per-group accuracy, error rates and rank-k for one (model, dataset, variant)."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.progress import setup_logging
from maskaudit.scoring import read_scores
from maskaudit.tables import group_metrics, write_table

setup_logging(snakemake.log[0])
wc, variant, model = snakemake.wildcards, snakemake.params.variant, snakemake.params.model
rows = group_metrics(
    read_scores(snakemake.input.verification),
    read_scores(snakemake.input.identification),
    read_manifest(snakemake.input.manifest),
    threshold=-model["threshold"],  # similarity scale: score = -distance
    fmr_target=snakemake.params.fmr_target,
    rank_k=snakemake.params.rank_k,
)
rows.insert(0, "model", wc.model)
rows.insert(1, "dataset", wc.dataset)
rows.insert(2, "variant", wc.variant)
rows.insert(3, "mask_kind", variant["kind"])
rows.insert(4, "mask_colour", variant["colour"])
rows.insert(rows.columns.get_loc("n_genuine"), "threshold_distance", model["threshold"])
rows.insert(rows.columns.get_loc("fnmr_at_fmr"), "fmr_target", snakemake.params.fmr_target)
write_table(rows, snakemake.output.metrics)
