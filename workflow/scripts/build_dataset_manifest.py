"""Read an extracted dataset with its adapter: full manifest, issues sidecar, validation report."""

from maskaudit.datasets.adapters import get_adapter
from maskaudit.datasets.build import write_outputs
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
write_outputs(
    get_adapter(snakemake.params.adapter),
    snakemake.input.folder,
    manifest_path=snakemake.output.manifest,
    issues_path=snakemake.output.issues,
    report_path=snakemake.output.report,
)
