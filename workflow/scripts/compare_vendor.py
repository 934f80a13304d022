"""Send one (dataset, variant) to a commercial FRS and write its comparisons file (SEAMS item 3)."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_statuses
from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv
from maskaudit.variants import read_variant_manifest
from maskaudit.vendors.comparisons import save_comparisons
from maskaudit.vendors.run import execute
from maskaudit.vendors.settings import vendor_settings

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
statuses = load_statuses(snakemake.input.landmarks)
gallery = read_manifest(snakemake.input.manifest)
gallery["status"] = gallery.image_id.map(statuses)
if wc.variant == "none":
    probes = gallery
else:
    probes = read_variant_manifest(snakemake.input.images)
arrays, sidecar = execute(
    wc.model,
    vendor_settings(snakemake.config, wc.model),
    snakemake.config["vendors"]["cache_dir"],
    probes[["image_id", "path", "status"]],
    gallery[["image_id", "path", "status"]],
    read_tsv(snakemake.input.pairs),
    dataset=wc.dataset,
    variant=wc.variant,
    card=get_card(wc.model),
)
save_comparisons(snakemake.output.comparisons, arrays, sidecar)
logging.info("wrote %s", snakemake.output.comparisons)
