"""Store one variant (a mask, or the unmasked baseline `none`) of every acquired image of a dataset."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_landmarks, load_statuses
from maskaudit.masking import mask_dataset, write_variant_manifest
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
variant = snakemake.params.variant
logging.info("variant %s: %s; storage %s", variant["id"], variant, snakemake.params.storage)
table = mask_dataset(
    read_manifest(snakemake.input.manifest),
    load_landmarks(snakemake.input.landmarks),
    load_statuses(snakemake.input.landmarks),
    variant,
    dataset=snakemake.wildcards.dataset,
    seed=snakemake.params.seed,
    out_dir=snakemake.output.images,
    storage=snakemake.params.storage,
)
write_variant_manifest(table, snakemake.output.manifest)
logging.info("status counts: %s", table.status.value_counts().to_dict())
