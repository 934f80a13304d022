"""Before/after: a base system and its heads on one dataset's held-out identities (paired intervals)."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.mitigation.data import read_split
from maskaudit.mitigation.evaluate import before_after
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
inp, p = snakemake.input, snakemake.params
manifest = read_manifest(inp.manifest)
if "split" in inp.keys():
    split = read_split(inp.split)
    identities, label = split.identity[split.split == "test"], "test identities"
else:
    identities, label = manifest.identity, "all identities (not the training dataset)"
n = len(p.variants)
systems = {
    s: dict(zip(p.variants, inp.caches[k * n : (k + 1) * n])) for k, s in enumerate(p.systems)
}
table = before_after(
    manifest,
    systems,
    identities,
    read_tsv(inp.near_duplicates),
    fmr_targets=p.fmr_targets,
    n_boot=p.stats.n_boot,
    level=p.stats.level,
    seed=p.seed,
    dataset=snakemake.wildcards.dataset,
    eval_label=label,
    min_identities=p.stats.min_identities,
)
write_tsv(table, snakemake.output.table)
