"""A head's embedding cache: the base system's cache of one (dataset, variant) through the head."""

import logging

from maskaudit.embed import load_cache, load_sidecar, save_cache
from maskaudit.mitigation.head import forward, load_checkpoint
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
inp, wc = snakemake.input, snakemake.wildcards
weights, config = load_checkpoint(inp.checkpoint)
ids, vectors, status = load_cache(inp.base)
sidecar = {
    **load_sidecar(inp.base),
    "model": wc.model,
    "base_model": config["base"],
    "head": config,
}
sidecar.pop("failures", None)  # recounted by save_cache
save_cache(snakemake.output.cache, ids, forward(weights, vectors), status, sidecar)
logging.info("%s: %d images through the %s head", wc.variant, len(ids), config["loss"])
