"""Privacy probe: predict gender, race, age bucket and age from one system's embeddings of a dataset."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.privacy.probe import probe_system
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p, wc = snakemake.params, snakemake.wildcards
table = probe_system(
    read_manifest(snakemake.input.manifest),
    dict(zip(p.variants, snakemake.input.caches)),
    system=wc.model,
    dataset=wc.dataset,
    probes=p.privacy["probes"],
    folds=p.privacy["folds"],
    hidden=p.privacy["hidden"],
    min_identities=p.privacy["min_identities"],
    shuffled_control=p.privacy["shuffled_control"],
    n_boot=p.stats.n_boot,
    level=p.stats.level,
    interval_identities=p.stats.min_identities,
    seed=p.seed,
)
write_tsv(table, snakemake.output.table)
