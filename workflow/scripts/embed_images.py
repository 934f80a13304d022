"""Embed one (dataset, variant) with one model into a cache file plus sidecar."""

import logging

from maskaudit.detect import load_landmarks
from maskaudit.embed import embed_images, save_cache
from maskaudit.models import load_model
from maskaudit.progress import setup_logging
from maskaudit.variants import read_variant_manifest, stored_landmarks

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
table = read_variant_manifest(snakemake.input.images)  # every variant, `none` included
landmarks = stored_landmarks(table, load_landmarks(snakemake.input.landmarks))  # crop coordinates
model = load_model(wc.model, weights_dir=snakemake.params.weights_dir)
vectors, status = embed_images(model, table, landmarks, model.card.batch_size)
sidecar = {**model.describe(), "dataset": wc.dataset, "variant": wc.variant}
save_cache(snakemake.output.cache, list(table.image_id), vectors, status, sidecar)
logging.info("embedded %d of %d images", sum(s == "ok" for s in status), len(status))
