"""Find a manually obtained archive in its documented place, or stop saying how to get it."""

from maskaudit.datasets.adapters import get_adapter
from maskaudit.datasets.download import Archive, write_record
from maskaudit.datasets.gated import locate_manual
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
adapter = get_adapter(snakemake.params.adapter)
record = locate_manual(
    Archive(**snakemake.params.archive),
    snakemake.wildcards.dataset,
    snakemake.params.manual_dir,
    title=adapter.title,
    licence=adapter.licence,
    licence_url=adapter.licence_url,
    how=adapter.how,
)
write_record(record, snakemake.output.record)
