"""Extract, verify and crop the demo images; write the dataset manifest."""

from pathlib import Path

from maskaudit.datasets.demo import build_demo, load_spec
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
listing = Path(snakemake.input.listing)
build_demo(
    load_spec(snakemake.input.sources),
    read_tsv(listing, dtype=str),
    download_dir=listing.parent,
    out_dir=snakemake.output.images,
    manifest_path=snakemake.output.manifest,
)
