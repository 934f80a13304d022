"""Figure: one system's mean maps on an eye-aligned template, per group and variant."""

from maskaudit.explain.figures import mean_maps
from maskaudit.explain.run import load_explanations
from maskaudit.plots import save
from maskaudit.progress import setup_logging
from maskaudit.tsv import read_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
model = snakemake.wildcards.model
explanations = {
    (model, v): load_explanations(f)
    for v, f in zip(snakemake.params.variants, snakemake.input.maps)
}
save(mean_maps(explanations, read_tsv(snakemake.input.manifest), model), snakemake.output.figure)
