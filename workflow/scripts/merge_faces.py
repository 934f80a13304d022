"""Merge a dataset's detection shards, in manifest order, into its landmarks file and acquisition table."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import merge_shards
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
ids = list(read_manifest(snakemake.input.manifest).image_id)
table = merge_shards(
    snakemake.input.landmarks,
    snakemake.input.acquisition,
    snakemake.output.landmarks,
    snakemake.output.acquisition,
    ids,
)
logging.info(
    "merged %d shards: %d images, %d acquired",
    len(snakemake.input.landmarks),
    len(table),
    (table.status == "ok").sum(),
)
