"""Validate a user's dataset manifest and write it in canonical form."""

from maskaudit.datasets.custom import import_manifest
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
import_manifest(snakemake.input.manifest, snakemake.output.manifest)
