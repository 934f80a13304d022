"""Extract, verify and crop the demo images; write the dataset manifest."""

from pathlib import Path

import pandas as pd

from maskaudit.datasets.demo import build_demo, load_spec
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0])
listing = Path(snakemake.input.listing)
build_demo(
    load_spec(snakemake.input.sources),
    pd.read_csv(listing, sep="\t", keep_default_na=False),
    download_dir=listing.parent,
    out_dir=snakemake.output.images,
    manifest_path=snakemake.output.manifest,
)
