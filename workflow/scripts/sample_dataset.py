"""Seeded stratified subsample of a dataset's full manifest (gender x race cells, whole identities)."""

from maskaudit.datasets.manifest import read_manifest, write_manifest
from maskaudit.datasets.sample import stratified_sample
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
sample, cells = stratified_sample(
    read_manifest(snakemake.input.manifest),
    seed=snakemake.params.seed,
    dataset=snakemake.wildcards.dataset,
    **snakemake.params.sample,
)
write_manifest(sample, snakemake.output.manifest)
write_tsv(cells, snakemake.output.cells)
