"""The findings page results/audit.html from the system cards and the collected tables."""

from maskaudit.progress import setup_logging
from maskaudit.report.page import build_page

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
inp, opts = snakemake.input, snakemake.params.report
html = build_page(
    cards=list(zip(inp.cards, inp.records)),
    overall=inp.overall,
    differentials=inp.differentials,
    mask_effects=inp.mask_effects,
    thresholds=inp.thresholds,
    tests=tuple(snakemake.params.tests) if snakemake.params.tests else None,
    manifests=dict(zip(snakemake.params.datasets, inp.manifests)),
    provenance=snakemake.params.provenance,
    fmr=opts["fmr"],
    measure=opts["measure"],
    min_identities=opts["min_identities"],
    top=opts["top"],
    alpha=snakemake.params.alpha,
)
with open(snakemake.output.page, "w", encoding="utf-8") as fh:
    fh.write(html)
