"""Render one mask variant on every acquired image of a dataset."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_landmarks, load_statuses
from maskaudit.progress import setup_logging
from maskaudit.variants import mask_dataset, spec_from_variant, write_variant_manifest

setup_logging(snakemake.log[0])
variant = snakemake.params.variant
spec = spec_from_variant(variant)
logging.info("variant %s: %s", variant["id"], spec)
table = mask_dataset(
    read_manifest(snakemake.input.manifest),
    load_landmarks(snakemake.input.landmarks),
    load_statuses(snakemake.input.landmarks),
    spec,
    dataset=snakemake.wildcards.dataset,
    variant=variant["id"],
    seed=snakemake.params.seed,
    out_dir=snakemake.output.images,
)
write_variant_manifest(table, snakemake.output.manifest)
logging.info("status counts: %s", table.status.value_counts().to_dict())
