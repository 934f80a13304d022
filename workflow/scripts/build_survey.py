"""Build the survey's trials, answer key, design table and image bundle from one audited dataset."""

from maskaudit.progress import setup_logging
from maskaudit.survey.stage import build_survey

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
masked = {
    k.removeprefix("masked_"): v for k, v in snakemake.input.items() if k.startswith("masked_")
}
build_survey(
    snakemake.input.manifest,
    snakemake.input.protocol,
    masked,
    dict(snakemake.output.items()),
    design=snakemake.params.design,
    dataset=snakemake.wildcards.dataset,
)
