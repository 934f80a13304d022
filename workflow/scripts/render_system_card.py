"""One system card (model x dataset) of the findings page: an HTML fragment and its record (JSON)."""

import json

from maskaudit.progress import setup_logging
from maskaudit.report.card import build_card

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
opts = snakemake.params.report
html, record = build_card(
    snakemake.wildcards.model,
    snakemake.wildcards.dataset,
    rates=snakemake.input.rates,
    mask_effects=snakemake.input.mask_effects,
    thresholds=snakemake.input.thresholds,
    sidecars=list(snakemake.input.sidecars),
    fmr=opts["fmr"],
    measure=opts["measure"],
    min_identities=opts["min_identities"],
    system_measures=snakemake.params.system_measures,
)
with open(snakemake.output.card, "w", encoding="utf-8") as fh:
    fh.write(html)
with open(snakemake.output.record, "w", encoding="utf-8") as fh:
    json.dump(record, fh, indent=1, sort_keys=True)
