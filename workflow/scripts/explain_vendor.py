"""Occlusion/RISE maps of a commercial API on the explain sample under one variant (maskaudit/explain/vendor.py)."""

import logging

from maskaudit.detect import load_landmarks
from maskaudit.explain.run import Settings, sample_images, save_explanations
from maskaudit.explain.vendor import explain_vendor
from maskaudit.masking import read_variant_manifest, stored_landmarks
from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.vendors.inputs import load_tables
from maskaudit.vendors.settings import vendor_settings

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p, wc = snakemake.params, snakemake.wildcards
landmarks = load_landmarks(snakemake.input.landmarks)
baseline = read_variant_manifest(snakemake.input.baseline)
settings = Settings(**p.settings)
sample = sample_images(
    baseline, stored_landmarks(baseline, landmarks), p.faces, settings.seed, wc.dataset
)
table = read_variant_manifest(snakemake.input.images)
_, gallery = load_tables(snakemake.input.manifest, snakemake.input.landmarks)
result, meta = explain_vendor(
    wc.model,
    vendor_settings(snakemake.config, wc.model),
    snakemake.config["vendors"]["cache_dir"],
    get_card(wc.model),
    table,
    gallery,
    stored_landmarks(table, landmarks),
    sample,
    settings,
    dataset=wc.dataset,
)
meta.update(
    method=settings.method,
    settings=settings.__dict__,
    dataset=wc.dataset,
    variant=wc.variant,
    sample_size=len(sample),
    target="the vendor's 1:1 score with the photo's own unmasked original",
)
save_explanations(snakemake.output.maps, result, meta)
failed = {s: int((result["status"] == s).sum()) for s in set(result["status"]) if s != "ok"}
logging.info(
    "%s %s/%s: %d of %d maps (%s), %d requests sent, %d from the cache; not mapped: %s",
    wc.model,
    wc.dataset,
    wc.variant,
    (result["status"] == "ok").sum(),
    len(sample),
    settings.method,
    meta["n_calls"],
    meta["cached_calls"],
    failed or "none",
)
