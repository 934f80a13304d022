"""Send one (dataset, variant) to a commercial FRS and write its comparisons file (contract: maskaudit.protocol)."""

import logging

from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.vendors.comparisons import save_comparisons
from maskaudit.vendors.inputs import load_tables
from maskaudit.vendors.run import execute
from maskaudit.vendors.settings import vendor_settings

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
wc = snakemake.wildcards
probes, gallery = load_tables(
    snakemake.input.manifest,
    snakemake.input.landmarks,
    snakemake.input.images if wc.variant != "none" else None,
)
# The one deliberate read of snakemake.config: the sending settings (caps, rates, retries, the cache)
# change how calls are sent, not the answers, and params are rerun triggers; the settings that change
# answers are tracked as params too (params.vendor; maskaudit/vendors/settings.py: RESULT_KEYS).
arrays, sidecar = execute(
    wc.model,
    vendor_settings(snakemake.config, wc.model),
    snakemake.config["vendors"]["cache_dir"],
    probes,
    gallery,
    dataset=wc.dataset,
    variant=wc.variant,
    card=get_card(wc.model),
    seed=snakemake.params.seed,
    impostors_per_probe=snakemake.params.impostors_per_probe,
)
save_comparisons(snakemake.output.comparisons, arrays, sidecar)
logging.info("wrote %s", snakemake.output.comparisons)
