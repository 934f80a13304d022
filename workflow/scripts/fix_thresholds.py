"""Global thresholds of one system on one dataset, fixed on the unmasked baseline's impostors."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.protocol.stage import fix_thresholds

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
wc = snakemake.wildcards
fix_thresholds(
    dict(snakemake.input.items()),
    get_card(wc.model),
    read_manifest(snakemake.input.manifest),
    snakemake.input.protocol,
    snakemake.output.thresholds,
    protocol=snakemake.params.protocol,
    seed=snakemake.params.seed,
    dataset=wc.dataset,
    model=wc.model,
)
