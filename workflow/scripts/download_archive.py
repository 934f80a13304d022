"""Download one official archive of a dataset: resumable (HTTP Range), verified, atomic."""

from maskaudit.datasets.download import Archive, download, write_record
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
record = download(
    Archive(**snakemake.params.archive),
    snakemake.output.archive,
    retries=snakemake.params.retries,
    timeout=snakemake.params.timeout,
)
record["access"] = "direct"
write_record(record, snakemake.output.record)
