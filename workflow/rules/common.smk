# Configuration, validation and the input/target functions every stage uses.

import os
import re
import sys
from pathlib import Path

# The maskaudit package sits next to the Snakefile. This process imports it from there, and every
# script (also inside conda envs or cluster jobs, which re-read this file) finds it on PYTHONPATH.
# The workflow sets the variable; it never requires the user to.
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")])
    )
)

from maskaudit.config import load_schema, validate_config
from maskaudit.models import get_card
from maskaudit.tables import ATTRIBUTES
from maskaudit.vendors.settings import result_settings, usable_models

_schema = load_schema(Path(workflow.current_basedir) / "../schemas/config.schema.yaml")
config.update(validate_config(config, _schema))

DATASETS = sorted(config["datasets"])
MODELS = usable_models(
    config
)  # listed vendors without credentials are skipped, with a message
MASK_VARIANTS = list(config["masks"]["variants"])
VARIANTS = ["none"] + MASK_VARIANTS
VENDOR_MODELS = [m for m in MODELS if get_card(m).kind == "comparison"]
TABLES = ["overall" if a == "overall" else f"by_{a}" for a in ATTRIBUTES]


def _one_of(values):
    """A regex matching exactly one of ``values`` (and nothing at all for an empty list)."""
    return "|".join(re.escape(v) for v in values) or "(?!x)x"


def datasets_built_by(builder):
    return [d for d in DATASETS if config["datasets"][d]["builder"] == builder]


wildcard_constraints:
    dataset=_one_of(DATASETS),
    model=_one_of(MODELS),
    variant=_one_of(VARIANTS),
    masked_variant=_one_of(MASK_VARIANTS),
    table=_one_of(TABLES),


def get_sources_spec(wildcards):
    return config["datasets"][wildcards.dataset]["sources"]


def get_user_manifest(wildcards):
    return config["datasets"][wildcards.dataset]["manifest"]


def get_variant(wildcards):
    """The variant's config entry with its id and resolved colour, or the unmasked baseline."""
    name = wildcards.get("variant", wildcards.get("masked_variant"))
    if name == "none":
        return {"id": "none", "kind": "none", "colour": "none"}
    spec = dict(config["masks"]["variants"][name])
    return {**spec, "id": name, "hex": config["masks"]["colours"][spec["colour"]]}


def get_images_table(wildcards):
    """The table of images a variant's embeddings are computed from."""
    if wildcards.variant == "none":
        return f"results/datasets/{wildcards.dataset}/manifest.tsv"
    return f"results/masked/{wildcards.dataset}/{wildcards.variant}/manifest.tsv"


def get_model_gpu(wildcards):
    return int(get_card(wildcards.model).gpu)


def get_model_threshold(wildcards):
    return get_card(wildcards.model).threshold


def vendor_slot(vendor):
    """Resource function: 1 for the jobs of commercial API ``vendor``, 0 otherwise."""
    return lambda wildcards: int(wildcards.model == vendor)


def get_vendor_params(wildcards):
    """The vendor settings that change its answers (caps, rates and retries do not)."""
    return result_settings(config, wildcards.model)


def figure_paths(figure):
    return expand(
        f"results/figures/{figure}/{{model}}.{{dataset}}.png",
        model=MODELS,
        dataset=DATASETS,
    )


def get_final_outputs():
    return (
        expand("results/tables/{table}.tsv", table=TABLES)
        + figure_paths("accuracy_by_variant")
        + figure_paths("score_distributions")
        + expand("results/figures/mask_gallery/{dataset}.png", dataset=DATASETS)
        + expand("results/figures/face_chips/{dataset}.png", dataset=DATASETS)
    )
