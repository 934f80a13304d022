"""Saliency maps of the explain sample under one variant with one system (maskaudit/explain)."""

import logging
import os

from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p, wc = snakemake.params, snakemake.wildcards
if p.device == "cpu":
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before any framework is imported
os.environ.setdefault("OMP_NUM_THREADS", str(snakemake.threads))

from maskaudit.detect import load_landmarks  # noqa: E402
from maskaudit.embed import load_cache  # noqa: E402
from maskaudit.explain.run import Settings, explain_images, sample_images, save_explanations  # noqa: E402
from maskaudit.masking import read_variant_manifest, stored_landmarks  # noqa: E402
from maskaudit.models import load_model  # noqa: E402
from maskaudit.models.base import limit_threads  # noqa: E402
from maskaudit.models.located import load_located  # noqa: E402

landmarks = load_landmarks(snakemake.input.landmarks)
baseline = read_variant_manifest(snakemake.input.baseline)
settings = Settings(**p.settings)
sample = sample_images(
    baseline, stored_landmarks(baseline, landmarks), p.faces, settings.seed, wc.dataset
)
table = read_variant_manifest(snakemake.input.images)
model = load_model(
    wc.model, p.alignment, weights_dir=p.weights_dir, fetch_dir=p.fetch_dir, overrides=p.overrides
)
limit_threads(snakemake.threads)
ids, vectors, _ = load_cache(snakemake.input.reference)
located = load_located(snakemake.input.located) if "located" in snakemake.input.keys() else None
result = explain_images(
    model,
    table,
    stored_landmarks(table, landmarks),
    dict(zip(ids, vectors)),
    sample,
    settings,
    dataset=wc.dataset,
    located=located,
)
meta = {
    "method": settings.method,
    "settings": settings.__dict__,
    "dataset": wc.dataset,
    "variant": wc.variant,
    "sample_size": len(sample),
    "target": "similarity to the photo's own unmasked original",
    **model.describe(),
}
save_explanations(snakemake.output.maps, result, meta)
logging.info(
    "%s %s/%s: %d of %d maps (%s)",
    wc.model,
    wc.dataset,
    wc.variant,
    (result["status"] == "ok").sum(),
    len(sample),
    settings.method,
)
