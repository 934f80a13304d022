"""One system answers every survey trial from its embedding caches or comparisons file."""

from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.survey.stage import score_survey

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
by_variant = {}
for name, path in snakemake.input.items():
    if "__" in name:  # <score input>__<variant> (common.smk: get_survey_score_inputs)
        kind, variant = name.rsplit("__", 1)
        by_variant.setdefault(variant, {})[kind] = path
model = snakemake.wildcards.model
score_survey(
    snakemake.input.key,
    by_variant,
    get_card(model),
    snakemake.input.thresholds,
    snakemake.output.answers,
    threshold_name=snakemake.params.threshold,
    system=model,
)
