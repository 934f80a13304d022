"""Embed one (dataset, variant) with one model, through the model's own face pipeline."""

import logging
import os

from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p, wc = snakemake.params, snakemake.wildcards
if p.device == "cpu":
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before any framework is imported
os.environ.setdefault("OMP_NUM_THREADS", str(snakemake.threads))

from maskaudit.detect import load_landmarks  # noqa: E402
from maskaudit.embed import embed_images, loader_workers, save_cache  # noqa: E402
from maskaudit.models import load_model  # noqa: E402
from maskaudit.models.base import limit_threads  # noqa: E402
from maskaudit.models.located import load_located  # noqa: E402
from maskaudit.masking import read_variant_manifest, stored_landmarks  # noqa: E402

table = read_variant_manifest(snakemake.input.images)  # every variant, `none` included
landmarks = stored_landmarks(table, load_landmarks(snakemake.input.landmarks))  # crop coordinates
model = load_model(wc.model, p.alignment, weights_dir=p.weights_dir, fetch_dir=p.fetch_dir, overrides=p.overrides)
limit_threads(snakemake.threads)
located = load_located(snakemake.input.located) if "located" in snakemake.input.keys() else None
workers = loader_workers(p.loader_workers, snakemake.threads, model.device)
vectors, status, faces = embed_images(model, table, landmarks, p.batch_size, located, workers=workers)
sidecar = {**model.describe(), "dataset": wc.dataset, "variant": wc.variant, "batch_size": p.batch_size,
           "device_requested": p.device}
save_cache(snakemake.output.cache, list(table.image_id), vectors, status, sidecar, extra=faces)
logging.info("%s on %s (%d loader workers): embedded %d of %d images", wc.model, sidecar["device"], workers,
             sum(s == "ok" for s in status), len(status))
