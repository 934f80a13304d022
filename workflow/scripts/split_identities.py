"""The identity-disjoint, seeded train/val/test split of a dataset for training heads."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.mitigation.data import split_identities
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
split = split_identities(
    read_manifest(snakemake.input.manifest).identity,
    p.seed,
    snakemake.wildcards.dataset,
    val=p.split["val"],
    test=p.split["test"],
)
write_tsv(split, snakemake.output.split)
logging.info("identities per split: %s", split.split.value_counts().sort_index().to_dict())
