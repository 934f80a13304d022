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
from maskaudit.variants import expand_variants, resolve_variant

_schema = load_schema(Path(workflow.current_basedir) / "../schemas/config.schema.yaml")
config.update(validate_config(config, _schema))

DATASETS = sorted(config["datasets"])
MODELS = list(config["models"])
MASK_VARIANTS = list(expand_variants(config["masks"]))
VARIANTS = ["none"] + MASK_VARIANTS
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
    table=_one_of(TABLES),


def get_sources_spec(wildcards):
    return config["datasets"][wildcards.dataset]["sources"]


def get_user_manifest(wildcards):
    return config["datasets"][wildcards.dataset]["manifest"]


def get_variant(wildcards):
    """The variant's config entry with its id and resolved colour(s), or the unmasked baseline."""
    return resolve_variant(config["masks"], wildcards.variant)


def get_images_table(wildcards):
    """The table of images a variant's embeddings are computed from: the masking stage stores every
    variant, the unmasked baseline `none` included (same crop and encoder)."""
    return f"results/masked/{wildcards.dataset}/{wildcards.variant}/manifest.tsv"


def get_model_gpu(wildcards):
    return int(get_card(wildcards.model).gpu)


def get_model_threshold(wildcards):
    return get_card(wildcards.model).threshold


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
