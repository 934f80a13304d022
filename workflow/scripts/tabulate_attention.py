"""Tables: region shares and attention shift per system, variant and group; group contrasts."""

import pandas as pd

from maskaudit.explain.attention import attention_tables, image_table
from maskaudit.explain.run import load_explanations
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
shifts, contrasts = [], []
for dataset, manifest in zip(p.datasets, snakemake.input.manifests):
    files = [(m, v, f) for (d, m, v), f in zip(p.map_keys, snakemake.input.maps) if d == dataset]
    images = image_table({(m, v): load_explanations(f) for m, v, f in files}, read_tsv(manifest))
    s, c = attention_tables(
        images,
        dataset=dataset,
        seed=p.seed,
        n_boot=p.bootstrap,
        n_perm=p.permutations,
        level=p.confidence,
        min_identities=p.min_identities,
    )
    shifts.append(s)
    contrasts.append(c)
write_tsv(pd.concat(shifts, ignore_index=True), snakemake.output.attention)
write_tsv(pd.concat(contrasts, ignore_index=True), snakemake.output.contrasts)
