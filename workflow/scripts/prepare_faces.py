"""Decode, align and resize one stored (dataset, variant) once for every model with this input geometry."""

import logging

from maskaudit.detect import load_landmarks
from maskaudit.masking import read_variant_manifest, stored_landmarks
from maskaudit.models.base import limit_threads
from maskaudit.models.located import load_located
from maskaudit.prepare import PrepCard, prepare_workers, write_prepared
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
table = read_variant_manifest(snakemake.input.images)  # every variant, `none` included
landmarks = stored_landmarks(table, load_landmarks(snakemake.input.landmarks))  # crop coordinates
located = load_located(snakemake.input.located) if "located" in snakemake.input.keys() else None
card = PrepCard(**{**p.card, "input_size": tuple(p.card["input_size"])})
workers = prepare_workers(p.loader_workers, snakemake.threads, int((table.status == "ok").sum()))
limit_threads(1 if workers else snakemake.threads)
meta = write_prepared(
    snakemake.output.faces,
    snakemake.output.meta,
    card,
    p.alignment,
    table,
    landmarks,
    located,
    workers=workers,
)
logging.info(
    "%s: prepared %d of %d images (%d worker processes)",
    snakemake.wildcards.prep,
    int((meta["slot"] >= 0).sum()),
    len(table),
    workers,
)
