"""Build the survey's trials, answer key, design table and image bundle from one audited dataset."""

from maskaudit.progress import setup_logging
from maskaudit.survey.stage import build_survey
from maskaudit.survey.trials import Design

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
survey = snakemake.params.design
design = Design(
    variants=tuple(survey["variants"]),
    candidates=survey["candidates"],
    per_cell=survey["trials_per_cell"],
    attention=survey["attention_checks"],
    seed=snakemake.params.seed,
)
masked = {
    k.removeprefix("masked_"): v for k, v in snakemake.input.items() if k.startswith("masked_")
}
build_survey(
    snakemake.input.manifest,
    snakemake.input.protocol,
    masked,
    dict(snakemake.output.items()),
    design=design,
    dataset=snakemake.wildcards.dataset,
)
