"""Build the synthetic stress dataset: seeded augmentations of another dataset's faces."""

import logging

from maskaudit.datasets.manifest import read_manifest, write_manifest
from maskaudit.datasets.stress import build_stress
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
rows = build_stress(
    read_manifest(snakemake.input.manifest),
    size=p.size,
    seed=p.seed,
    out_dir=snakemake.output.images,
    max_side=p.max_side,
)
for skipped in rows.attrs["skipped"]:
    logging.warning("source %s skipped: %s", skipped["image_id"], skipped["reason"])
write_manifest(rows, snakemake.output.manifest)
logging.info(
    "%d synthetic images from %d source images",
    len(rows),
    rows.source.str.split(":").str[0].nunique(),
)
