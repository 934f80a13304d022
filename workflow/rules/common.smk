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

_schema = load_schema(Path(workflow.current_basedir) / "../schemas/config.schema.yaml")
config.update(validate_config(config, _schema))

DATASETS = sorted(config["datasets"])
MODELS = list(config["models"])
MASK_VARIANTS = list(config["masks"]["variants"])
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


# Models (maskaudit/models): each model's card, with the study's pipeline overrides, picks its env and resources.
# Only embedding models get weights and embedding caches; comparison systems (the vendors) have their own rules.
EMBEDDING = config["embedding"]
EMBEDDING_MODELS = [m for m in MODELS if get_card(m).kind == "embedding"]


def model_card(wildcards):
    return get_card(wildcards.model, EMBEDDING["overrides"].get(wildcards.model))


def get_model_env(wildcards):
    return f"../envs/embed-{model_card(wildcards).family}.yaml"


def get_model_threads(wildcards):
    return model_card(wildcards).threads


def get_model_gpu(wildcards):
    return int(model_card(wildcards).gpu and EMBEDDING["device"] != "cpu")


def get_model_mem_mb(wildcards):
    return model_card(wildcards).mem_mb


def get_model_runtime(wildcards):
    return model_card(wildcards).runtime


def get_model_overrides(wildcards):
    return EMBEDDING["overrides"].get(wildcards.model, {})


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
