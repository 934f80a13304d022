"""Unpack every archive of a dataset into one folder (label files are copied beside the images)."""

from maskaudit.datasets.download import read_record
from maskaudit.datasets.extract import extract_all
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
paths = [read_record(r)["path"] for r in snakemake.input.records]
extract_all(paths, snakemake.output.folder)
