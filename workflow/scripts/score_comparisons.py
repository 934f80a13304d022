"""Score one (system, dataset, variant): re-identification, verification, identification, impostors."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.protocol.stage import score

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
wc = snakemake.wildcards
score(
    dict(snakemake.input.items()),
    get_card(wc.model),
    read_manifest(snakemake.input.manifest),
    snakemake.input.protocol,
    snakemake.input.thresholds,
    snakemake.params.variant,
    dict(snakemake.output.items()),
    protocol=snakemake.params.protocol,
    seed=snakemake.params.seed,
    dataset=wc.dataset,
    model=wc.model,
)
