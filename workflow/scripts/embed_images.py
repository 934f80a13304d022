"""Embed one (dataset, variant) with one model from the faces the prepare_faces stage stored."""

import logging
import os

from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p, wc = snakemake.params, snakemake.wildcards
if p.device == "cpu":
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before any framework is imported
os.environ.setdefault("OMP_NUM_THREADS", str(snakemake.threads))

from maskaudit.embed import embed_prepared, save_cache  # noqa: E402
from maskaudit.models import load_model  # noqa: E402
from maskaudit.models.base import limit_threads  # noqa: E402
from maskaudit.prepare import check_prepared, load_prepared  # noqa: E402

faces, meta = load_prepared(snakemake.input.faces, snakemake.input.meta)
model = load_model(
    wc.model, p.alignment, weights_dir=p.weights_dir, fetch_dir=p.fetch_dir, overrides=p.overrides
)
limit_threads(snakemake.threads)
check_prepared(meta, model.card, p.alignment)  # the faces this model takes
vectors, status, details = embed_prepared(model, faces, meta, p.batch_size)
sidecar = {
    **model.describe(),
    "dataset": wc.dataset,
    "variant": wc.variant,
    "batch_size": p.batch_size,
    "device_requested": p.device,
    "prepared": meta["describe"],
}
save_cache(snakemake.output.cache, list(meta["image_id"]), vectors, status, sidecar, extra=details)
logging.info(
    "%s on %s: embedded %d of %d images",
    wc.model,
    sidecar["device"],
    sum(s == "ok" for s in status),
    len(status),
)
