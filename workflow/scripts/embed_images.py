"""Embed one (dataset, variant) with one model into a cache file plus sidecar."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_landmarks, load_statuses
from maskaudit.embed import embed_images, save_cache
from maskaudit.models import load_model
from maskaudit.progress import setup_logging
from maskaudit.variants import read_variant_manifest

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
landmarks = load_landmarks(snakemake.input.landmarks)
if wc.variant == "none":
    table = read_manifest(snakemake.input.images)
    table["status"] = table.image_id.map(load_statuses(snakemake.input.landmarks))
else:
    table = read_variant_manifest(snakemake.input.images)
model = load_model(wc.model, weights_dir=snakemake.params.weights_dir)
vectors, status = embed_images(model, table, landmarks, model.card.batch_size)
sidecar = {**model.describe(), "dataset": wc.dataset, "variant": wc.variant}
save_cache(snakemake.output.cache, list(table.image_id), vectors, status, sidecar)
logging.info("embedded %d of %d images", sum(s == "ok" for s in status), len(status))
