"""Draw the seeded 1:1 comparison pairs of a dataset."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.pairs import verification_pairs
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0])
pairs = verification_pairs(
    read_manifest(snakemake.input.manifest),
    impostors_per_probe=snakemake.params.impostors_per_probe,
    seed=snakemake.params.seed,
    dataset=snakemake.wildcards.dataset,
)
write_tsv(pairs, snakemake.output.pairs)
logging.info("pairs: %s", pairs.comparison.value_counts().to_dict())
