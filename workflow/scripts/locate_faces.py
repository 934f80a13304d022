"""Run one deepface detector once over a stored variant, for every end_to_end model that uses it."""

import logging

from maskaudit.masking import read_variant_manifest
from maskaudit.models.located import FaceLocator, locate_images, save_located
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
table = read_variant_manifest(snakemake.input.images)
locator = FaceLocator(**p.locator, weights_dir=p.weights_dir, fetch_dir=p.fetch_dir)
regions = locate_images(locator, table)
save_located(snakemake.output.located, list(table.image_id), regions, locator.describe())
found = [len(r) for r in regions if r is not None]
logging.info(
    "%s: searched %d images, faces found in %d (%d with several)",
    snakemake.wildcards.locator,
    len(found),
    sum(n > 0 for n in found),
    sum(n > 1 for n in found),
)
