"""Draw the seeded 1:1 comparison pairs of a dataset."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.pairs import verification_pairs
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0])
pairs = verification_pairs(
    read_manifest(snakemake.input.manifest),
    impostors_per_probe=snakemake.params.impostors_per_probe,
    seed=snakemake.params.seed,
    dataset=snakemake.wildcards.dataset,
)
pairs.to_csv(snakemake.output.pairs, sep="\t", index=False, lineterminator="\n")
logging.info("pairs: %s", pairs.comparison.value_counts().to_dict())
