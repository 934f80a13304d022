# Configuration, validation and the input/target functions every stage uses.

import json
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

from dataclasses import asdict

from maskaudit.config import load_schema, validate_config
from maskaudit.datasets.adapters import get_adapter
from maskaudit.datasets.gated import manual_path
from maskaudit.models import get_card
from maskaudit.models.located import locator_id
from maskaudit.provenance import code_hash
from maskaudit.stats.groups import ATTRIBUTES
from maskaudit.masking import expand_variants, resolve_variant
from maskaudit.vendors.settings import result_settings, usable_models

_schema = load_schema(Path(workflow.current_basedir) / "../schemas/config.schema.yaml")
config.update(validate_config(config, _schema))

DATASETS = sorted(config["datasets"])
# listed vendors without credentials are skipped, with a message
MODELS = usable_models(config)
# mitigation heads (maskaudit/mitigation, the `mitigation` section): systems `<base>+<loss>` derived
# from a base's caches, audited like any other
from maskaudit.mitigation import head_models

HEAD_MODELS = head_models(config, MODELS)
MODELS += HEAD_MODELS
MASK_VARIANTS = list(expand_variants(config["masks"]))
VARIANTS = ["none"] + MASK_VARIANTS
# table -> the per-(model, dataset) metrics file it collects (maskaudit/tables.py) and the rows it
# keeps (column -> value; none: every row)
METRIC_TABLES = {
    **{
        ("overall" if a == "overall" else f"by_{a}"): ("rates", {"attribute": a})
        for a in ATTRIBUTES
    },
    "differentials": ("differentials", {}),
    "fairness": ("fairness", {}),
    "mask_effects": ("mask_effects", {}),
    "mask_colour_by_race": (
        "mask_effects",
        {"attribute": "race", "effect": "masked_minus_unmasked"},
    ),
    "clustering": ("clustering", {}),
    # verdicts-stats: the predeclared tests (maskaudit/stats/hypotheses.py), Holm per (system, dataset)
    "tests": ("tests", {}),
}
TABLES = list(METRIC_TABLES) + ["thresholds"]
VENDOR_MODELS = [m for m in MODELS if get_card(m).kind == "comparison"]


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


# --- datasets read by an adapter (builder: adapter) ---


def dataset_archives(dataset):
    """The dataset's archives by key, with the mirror/checksum overrides of its config entry."""
    entry = config["datasets"][dataset]
    overrides = entry.get("archives", {})
    return {
        a.key: a.with_overrides(overrides.get(a.file) or overrides.get(a.key))
        for a in get_adapter(entry["adapter"]).archives
    }


def datasets_with_access(access):
    return [
        d
        for d in datasets_built_by("adapter")
        if get_adapter(config["datasets"][d]["adapter"]).access == access
    ]


ARCHIVE_KEYS = sorted(
    {k for d in datasets_built_by("adapter") for k in dataset_archives(d)}
)
# Datasets whose faces already wear masks (MLFW): only the variant `none` applies to them.
PREMASKED_DATASETS = [
    d
    for d in datasets_built_by("adapter")
    if get_adapter(config["datasets"][d]["adapter"]).premasked
]


def dataset_variants(dataset):
    """The variants a dataset is audited under: `none` only for an already-masked dataset."""
    return ["none"] if dataset in PREMASKED_DATASETS else VARIANTS


def get_archive(wildcards):
    return asdict(dataset_archives(wildcards.dataset)[wildcards.archive])


def get_archive_records(wildcards):
    return [
        f"resources/downloads/{wildcards.dataset}/{key}.json"
        for key in dataset_archives(wildcards.dataset)
    ]


def get_manual_archive(wildcards):
    """The manually placed archive when it is there (so its date is tracked), else nothing:
    the rule then stops with instructions naming the file, its licence page and where to put it.
    """
    archive = dataset_archives(wildcards.dataset)[wildcards.archive]
    path = manual_path(config["downloads"]["manual_dir"], wildcards.dataset, archive)
    return [str(path)] if path.is_file() else []


def get_adapter_name(wildcards):
    return config["datasets"][wildcards.dataset]["adapter"]


def get_sample_params(wildcards):
    return dict(config["datasets"][wildcards.dataset].get("sample", {}))


def get_sources_spec(wildcards):
    return config["datasets"][wildcards.dataset]["sources"]


def get_user_manifest(wildcards):
    return config["datasets"][wildcards.dataset]["manifest"]


DETECTION_SHARDS = config["detection"]["shards"]
# FaceDetector's arguments: the detection section without the job split
DETECTOR = {k: v for k, v in config["detection"].items() if k != "shards"}


def detection_shards(ext):
    """Input function: the dataset's detection shards (1..N of N), in manifest order."""
    n = DETECTION_SHARDS
    return expand(
        "results/faces/{{dataset}}/shards/{shard}-of-{shards}.{ext}",
        shard=range(1, n + 1),
        shards=n,
        ext=ext,
    )


def variant_entry(name):
    """A variant's config entry with its id and resolved colour(s) (``none``: the unmasked baseline)."""
    return resolve_variant(config["masks"], name)


def get_variant(wildcards):
    return variant_entry(wildcards.variant)


def get_images_table(wildcards):
    """The table of images a variant's embeddings are computed from: the masking stage stores every
    variant, the unmasked baseline `none` included (same crop and encoder)."""
    return f"results/masked/{wildcards.dataset}/{wildcards.variant}/manifest.tsv"


# Models (maskaudit/models): each model's card, with the study's pipeline overrides, picks its env and resources.
# Only embedding models get weights and embedding caches; comparison systems (the vendors) have their own rules.
EMBEDDING = config["embedding"]
EMBEDDING_MODELS = [
    m for m in MODELS if get_card(m).kind == "embedding" and m not in HEAD_MODELS
]


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


def _locator_of(model):
    card = get_card(model, EMBEDDING["overrides"].get(model))
    return None if card.detector == "skip" else locator_id(card.detector, card.align)


# end_to_end: each model's detector runs once per stored image and is shared by every model using the
# same detector and alignment (maskaudit/models/located.py). Locator id -> the first model using it.
LOCATORS = {}
if EMBEDDING["alignment"] == "end_to_end":
    for _m in EMBEDDING_MODELS:
        if _locator_of(_m):
            LOCATORS.setdefault(_locator_of(_m), _m)


def get_located(wildcards):
    """Input function: the stored detector regions an end_to_end embedding job reads (none otherwise)."""
    if EMBEDDING["alignment"] != "end_to_end" or _locator_of(wildcards.model) is None:
        return {}
    locator = _locator_of(wildcards.model)
    dataset, variant = wildcards.dataset, wildcards.variant
    return {"located": f"results/located/{locator}/{dataset}/{variant}.npz"}


def get_locator_card(wildcards):
    model = LOCATORS[wildcards.locator]
    card = get_card(model, EMBEDDING["overrides"].get(model))
    return {"detector": card.detector, "align": card.align}


def score_inputs(model, dataset, variant):
    """The named inputs scoring reads (maskaudit/protocol/sources.py: open_source): a comparison-only
    system's comparisons file, else the variant's embedding cache (probes) and the unmasked one (gallery).
    """
    if get_card(model).kind == "comparison":
        path = f"results/comparisons/{model}/{dataset}/{variant}"
        return {"comparisons": f"{path}.npz", "comparisons_sidecar": f"{path}.json"}
    return {
        "probes": f"results/embeddings/{model}/{dataset}/{variant}.npz",
        "gallery": f"results/embeddings/{model}/{dataset}/none.npz",
    }


def get_score_inputs(wildcards):
    return score_inputs(wildcards.model, wildcards.dataset, wildcards.variant)


def get_baseline_score_inputs(wildcards):
    return score_inputs(wildcards.model, wildcards.dataset, "none")


def score_files(name):
    """One score file of every variant the rule's (model, dataset) is audited under."""
    return lambda wildcards: expand(
        f"results/scores/{wildcards.model}/{wildcards.dataset}/{{variant}}/{name}",
        variant=dataset_variants(wildcards.dataset),
    )


def get_dataset_variants(wildcards):
    return dataset_variants(wildcards.dataset)


def get_table_inputs(wildcards):
    if wildcards.table == "thresholds":
        return {
            "thresholds": expand(
                "results/thresholds/{model}/{dataset}.json",
                model=MODELS,
                dataset=DATASETS,
            )
        }
    kind = METRIC_TABLES[wildcards.table][0]
    return {
        "metrics": expand(
            f"results/metrics/{{model}}/{{dataset}}/{kind}.tsv",
            model=MODELS,
            dataset=DATASETS,
        )
    }


def get_table_rows(wildcards):
    """The rows a collected table keeps: column -> value (every row when empty)."""
    return METRIC_TABLES.get(wildcards.table, (None, {}))[1]


def vendor_slot(vendor):
    """Resource function: 1 for the jobs of commercial API ``vendor``, 0 otherwise."""
    return lambda wildcards: int(wildcards.model == vendor)


def vendor_job_inputs():
    """What each compare_vendor job reads, one row per (dataset, variant) it runs: rule
    list_vendor_inputs writes them down for `maskaudit vendors plan`, which prices exactly these. The
    baseline `none` has no images table: its probes are the unmasked images themselves.
    """
    return [
        {
            "dataset": d,
            "variant": v,
            "manifest": f"results/datasets/{d}/manifest.tsv",
            "landmarks": f"results/faces/{d}/landmarks.npz",
            "images": "" if v == "none" else f"results/masked/{d}/{v}/manifest.tsv",
            # the explain_vendor job of the same (dataset, variant), when vendors are explained
            "explain_baseline": (
                f"results/masked/{d}/none/manifest.tsv" if EXPLAIN_VENDORS else ""
            ),
            "explain_images": (
                f"results/masked/{d}/{v}/manifest.tsv" if EXPLAIN_VENDORS else ""
            ),
        }
        for d in DATASETS
        for v in VARIANTS
    ]


def vendor_job_files():
    """Every file some vendor job reads, once."""
    keys = ("manifest", "landmarks", "images", "explain_baseline", "explain_images")
    return list(dict.fromkeys(r[k] for r in vendor_job_inputs() for k in keys if r[k]))


def get_vendor_params(wildcards):
    """The vendor settings that change its answers (caps, rates and retries do not)."""
    return result_settings(config, wildcards.model)


def get_vendor_caps(wildcards):
    """A vendor's caps, as params of the jobs a cap can cut short (raising one reruns them)."""
    return {k: config["vendors"][wildcards.model][k] for k in ("max_calls", "max_usd")}


# --- the audit's figures: one entry each; workflow/rules/figures.smk generates rule `plot_<name>`
# (script workflow/scripts/plot_<name>.py, caption workflow/report/<name>.rst) and the Snakefile the
# named target `figure_<name>`. Recipe (docs/extending.md, "A figure"): add an entry here, a plotting
# function in maskaudit/plots/ and the thin script that calls it.
#   per       "model": one figure per (model, dataset), results/figures/<name>/<model>.<dataset>.png;
#             "dataset": one per dataset, results/figures/<name>/<dataset>.png
#   input     the rule's named inputs (paths or input functions)
#   params    what the script reads besides its inputs (the code hash is added)
#   label     the figure's label in `snakemake --report`; None: not in the report (linked from the
#             findings page instead)
#   env, mem_mb, runtime   conda env (workflow/envs/<env>.yaml) and scaled(base, per input MB)
def figure(
    per, input, label, params=None, env="analysis", mem_mb=(2000, 1), runtime=(10, 0.1)
):
    return dict(
        per=per,
        input=input,
        label=label,
        params=params or {},
        env=env,
        mem_mb=mem_mb,
        runtime=runtime,
    )


def get_masked_manifests(wildcards):
    """The masking stage's manifest of every variant the dataset is audited under."""
    return expand(
        "results/masked/{dataset}/{variant}/manifest.tsv",
        dataset=wildcards.dataset,
        variant=dataset_variants(wildcards.dataset),
    )


FIGURES = {
    "rates_by_variant": figure(
        "model",
        {"rates": "results/metrics/{model}/{dataset}/rates.tsv"},
        "rates by variant and group",
    ),
    "score_distributions": figure(
        "model",
        {
            "reidentification": score_files("reidentification.tsv"),
            "verification": score_files("verification.tsv"),
            "impostors": score_files("impostors.npz"),
            "thresholds": "results/thresholds/{model}/{dataset}.json",
        },
        "score distributions",
        params={"variants": get_dataset_variants},
    ),
    "det": figure(
        "model",
        {
            "verification": score_files("verification.tsv"),
            "impostors": score_files("impostors.npz"),
            "manifest": "results/datasets/{dataset}/manifest.tsv",
        },
        "DET curves per group",
        params={"variants": get_dataset_variants},
        mem_mb=(2000, 2),
    ),
    "cmc": figure(
        "model",
        {"identification": score_files("identification.tsv")},
        "CMC curves",
        params={
            "variants": get_dataset_variants,
            "max_rank": config["protocol"]["rank_k"],
        },
    ),
    "forest": figure(
        "model",
        {"differentials": "results/tables/differentials.tsv"},
        "forest plot of differentials",
    ),
    "mask_colour": figure(
        "model",
        {"rates": "results/metrics/{model}/{dataset}/rates.tsv"},
        "rates by mask colour and race",
    ),
    "clustering": figure(
        "model",
        {"clustering": "results/metrics/{model}/{dataset}/clustering.tsv"},
        "clustering index per component",
    ),
    "heatmap": figure(
        "dataset",
        {"table": "results/tables/by_race.tsv"},
        "heatmap models x groups",
    ),
    # contact sheets of faces: not in `snakemake --report` (they were 2.9 of its 7.2 MB for the demo
    # with 3 variants, and grow with the images); the findings page (results/audit.html) links to them
    "mask_gallery": figure(
        "dataset",
        {
            "manifest": "results/datasets/{dataset}/manifest.tsv",
            "landmarks": "results/faces/{dataset}/landmarks.npz",
            "variants": get_masked_manifests,
        },
        None,
        mem_mb=(2000, 2),
        runtime=(15, 0.1),
    ),
    "face_chips": figure(
        "dataset",
        {
            "manifest": "results/datasets/{dataset}/manifest.tsv",
            "landmarks": "results/faces/{dataset}/landmarks.npz",
        },
        None,
        params={"limit": 64, "seed": config["seed"]},
        env="detect",
        mem_mb=(2000, 2),
        runtime=(15, 0.1),
    ),
}


def figure_stem(name):
    """The wildcards naming one file of figure ``name``."""
    return "{model}.{dataset}" if FIGURES[name]["per"] == "model" else "{dataset}"


def figure_path(name):
    """The output path (with wildcards) of figure ``name``."""
    return f"results/figures/{name}/{figure_stem(name)}.png"


def figure_paths(name):
    """Every file of figure ``name``: one per (model, dataset) or per dataset."""
    models = {"model": MODELS} if FIGURES[name]["per"] == "model" else {}
    return expand(figure_path(name), **models, dataset=DATASETS)


def get_final_outputs():
    return (
        expand("results/tables/{table}.tsv", table=TABLES)
        + DUPLICATE_TABLES
        + [p for f in FIGURES for p in figure_paths(f)]
        + survey_outputs()
    )


def code_version(script):
    """Hash of the maskaudit modules ``script`` reaches (maskaudit/provenance.py), passed as a param
    so that editing a module reruns exactly the jobs whose script runs it."""
    return code_hash(Path(workflow.basedir) / "workflow" / "scripts" / script)


# --- duplicate screening (issue 15): the protocol stage's own table, built by rule tabulate_duplicates ---
DUPLICATE_TABLES = ["results/tables/duplicates.tsv"]


# --- report (issue 16): the findings page results/audit.html and its per-system cards ---
from maskaudit.config import ConfigError
from maskaudit.report.provenance import (
    config_hash,
    package_versions,
    workflow_code_hash,
)

# The predeclared tests' table (path, the rule that writes it) and the ISO system-level measures
# (<measure>_system, fta_pipeline) the cards show beside the acquired ones.
REPORT_TESTS_TABLE = ("results/tables/tests.tsv", "collect_table")
REPORT_SYSTEM_MEASURES = True

REPORT = config["report"]
if REPORT["fmr"] is not None and float(REPORT["fmr"]) not in map(
    float, config["protocol"]["fmr_targets"]
):
    raise ConfigError(
        f"invalid configuration:\n  - config key 'report.fmr': {REPORT['fmr']} is not one of "
        f"protocol.fmr_targets {config['protocol']['fmr_targets']}. Fix: use one of them, or null."
    )


def get_card_sidecars(wildcards):
    """The sidecars of every variant of one system: embedding caches' or a vendor's comparisons'."""
    card = get_card(wildcards.model)
    folder = "comparisons" if card.kind == "comparison" else "embeddings"
    return expand(
        f"results/{folder}/{wildcards.model}/{wildcards.dataset}/{{variant}}.json",
        variant=dataset_variants(wildcards.dataset),
    )


def card_paths(ext):
    return expand(
        f"results/report/cards/{{model}}.{{dataset}}.{ext}",
        model=MODELS,
        dataset=DATASETS,
    )


def get_report_inputs(wildcards):
    inputs = {
        "cards": card_paths("html"),
        "records": card_paths("json"),
        "overall": "results/tables/overall.tsv",
        "differentials": "results/tables/differentials.tsv",
        "mask_effects": "results/tables/mask_effects.tsv",
        "thresholds": "results/tables/thresholds.tsv",
        "manifests": expand(
            "results/datasets/{dataset}/manifest.tsv", dataset=DATASETS
        ),
        # the page links to every figure: they must exist beside it
        "figures": [p for f in FIGURES for p in figure_paths(f)],
    }
    if REPORT_TESTS_TABLE:
        inputs["tests"] = REPORT_TESTS_TABLE[0]
    return inputs


def report_provenance():
    """Hashes and versions the page prints (params: a change of any of them rebuilds the page)."""
    return {
        "config_hash": config_hash(config),
        "code_hash": workflow_code_hash(workflow.basedir),
        "versions": package_versions(),
        # the validated config the page prints in full
        "config_text": json.dumps(config, indent=1, sort_keys=True, default=str),
    }


# --- issue 20 (GPU node): the GPU memory an embedding job declares ------------------------------
def get_model_gpu_mem_mb(wildcards):
    """GPU memory an embedding job declares (0 without a GPU): profiles cap the sum per GPU."""
    return model_card(wildcards).gpu_mem_mb * get_model_gpu(wildcards)


# --- issue 20: the shared preparation (prepare_faces, maskaudit/prepare.py) ---------------------
from argparse import Namespace

from maskaudit.prepare import PrepCard, prep_id


def _prep_of(model):
    return prep_id(
        get_card(model, EMBEDDING["overrides"].get(model)), EMBEDDING["alignment"]
    )


# Prep id -> the first model taking those faces (its card gives the geometry; any other would give the same).
PREPS = {}
for _m in EMBEDDING_MODELS:
    PREPS.setdefault(_prep_of(_m), _m)


def get_prepared(wildcards):
    """Input function: the prepared faces of an embedding job."""
    prep = _prep_of(wildcards.model)
    return {
        "faces": f"results/prepared/{prep}/{wildcards.dataset}/{wildcards.variant}.npy",
        "meta": f"results/prepared/{prep}/{wildcards.dataset}/{wildcards.variant}.npz",
    }


def get_prep_located(wildcards):
    return get_located(
        Namespace(
            model=PREPS[wildcards.prep],
            dataset=wildcards.dataset,
            variant=wildcards.variant,
        )
    )


def get_prep_card(wildcards):
    model = PREPS[wildcards.prep]
    return PrepCard.of(get_card(model, EMBEDDING["overrides"].get(model))).params()


# --- the human baseline (workflow/rules/survey.smk, maskaudit/survey) ---
from maskaudit.survey.config import survey_problems, shipped_path

SURVEY = dict(config["survey"])
SURVEY_DATASET = SURVEY["dataset"]  # null: no survey is built
# A survey whose dataset or variants this config does not audit is skipped with a message (like a
# vendor without credentials); the rest of the audit runs.
for _problem in survey_problems(SURVEY, DATASETS, MASK_VARIANTS):
    print(f"survey skipped: {_problem}", file=sys.stderr)
    SURVEY_DATASET = None
# a relative responses path: the working directory first, then next to the Snakefile (the shipped demo file)
SURVEY["responses"] = shipped_path(SURVEY["responses"], workflow.basedir)
SURVEY_TABLES = ["accuracy", "versus", "agreement", "gaps", "trials", "quality"]
SURVEY_FIGURES = ["accuracy", "versus", "agreement", "gaps"]


def survey_settings(*keys):
    """The survey keys a rule reads (so editing another, e.g. the time limits, reruns nothing)."""
    return {k: SURVEY[k] for k in keys}


def get_survey_masked(wildcards):
    """The masking stage's manifests of `none` and every surveyed variant."""
    return {
        f"masked_{v}": f"results/masked/{wildcards.dataset}/{v}/manifest.tsv"
        for v in ["none"] + SURVEY["variants"]
    }


def get_survey_score_inputs(wildcards):
    """A system's score inputs (embedding caches or comparisons file) for each surveyed variant."""
    return {
        f"{name}__{v}": path
        for v in SURVEY["variants"]
        for name, path in score_inputs(wildcards.model, wildcards.dataset, v).items()
    }


def survey_outputs():
    """The survey's tables and figures when a dataset is surveyed and responses are given, else
    its trials and the machines' answers only (a study before collection)."""
    if not SURVEY_DATASET:
        return []
    if not SURVEY["responses"]:
        return [f"results/survey/{SURVEY_DATASET}/key.tsv"] + expand(
            "results/survey/{dataset}/machines/{model}.tsv",
            dataset=SURVEY_DATASET,
            model=MODELS,
        )
    return expand("results/tables/survey_{t}.tsv", t=SURVEY_TABLES) + expand(
        "results/figures/survey/{f}.png", f=SURVEY_FIGURES
    )


# --- mitigation heads and the privacy probe (workflow/rules/mitigation.smk, privacy.smk) ---
MITIGATION = config["mitigation"]
PRIVACY = config["privacy"]
HEAD_BASES = list(dict.fromkeys(get_card(h).base for h in HEAD_MODELS))
TRAIN_DATASET = MITIGATION["train_dataset"] or (DATASETS[0] if DATASETS else None)
HEAD_TRAINING_VARIANTS = (
    [v for v in dataset_variants(TRAIN_DATASET) if v != "none"] if HEAD_MODELS else []
)
if HEAD_MODELS and TRAIN_DATASET not in DATASETS:
    raise ValueError(
        f"mitigation.train_dataset '{TRAIN_DATASET}' is not a dataset of this config ({', '.join(DATASETS)})"
    )
if HEAD_MODELS and not HEAD_TRAINING_VARIANTS:
    raise ValueError(
        f"mitigation.train_dataset '{TRAIN_DATASET}' has no mask variants: heads learn from masked/unmasked pairs"
    )
# every system with embeddings (heads included) gets the privacy probe
PRIVACY_MODELS = (
    [m for m in MODELS if get_card(m).kind == "embedding"] if PRIVACY["probes"] else []
)


def get_head_base(wildcards):
    return get_card(wildcards.model).base


def get_head_loss(wildcards):
    return wildcards.model.rpartition("+")[2]


def get_head_settings(wildcards):
    """The training settings a head depends on (its own loss section only)."""
    loss = get_head_loss(wildcards)
    general = ["hidden", "epochs", "batch_size", "learning_rate", "weight_decay"]
    return {**{k: MITIGATION[k] for k in general}, loss: MITIGATION[loss]}


def get_head_training_inputs(wildcards):
    base, d = get_head_base(wildcards), TRAIN_DATASET
    return {
        "manifest": f"results/datasets/{d}/manifest.tsv",
        "split": f"results/mitigation/{d}/split.tsv",
        "unmasked": f"results/embeddings/{base}/{d}/none.npz",
        "masked": [
            f"results/embeddings/{base}/{d}/{v}.npz" for v in HEAD_TRAINING_VARIANTS
        ],
    }


def get_head_embedding_inputs(wildcards):
    base = get_card(wildcards.model).base
    path = f"results/embeddings/{base}/{wildcards.dataset}/{wildcards.variant}"
    return {"base": f"{path}.npz", "base_sidecar": f"{path}.json"}


def get_compared_systems(wildcards):
    """The base first, then its heads."""
    return [wildcards.base] + [
        h for h in HEAD_MODELS if get_card(h).base == wildcards.base
    ]


def get_compare_heads_inputs(wildcards):
    """Caches of every compared system x variant (system-major); the split on the training dataset."""
    caches = [
        f"results/embeddings/{s}/{wildcards.dataset}/{v}.npz"
        for s in get_compared_systems(wildcards)
        for v in dataset_variants(wildcards.dataset)
    ]
    split = (
        {"split": f"results/mitigation/{wildcards.dataset}/split.tsv"}
        if wildcards.dataset == TRAIN_DATASET
        else {}
    )
    return {"caches": caches, **split}


def mitigation_outputs():
    """What `rule all` builds for the mitigation and privacy stages (nothing when both are off)."""
    out = []
    if HEAD_MODELS:
        out += ["results/tables/before_after.tsv"]
        out += expand(
            "results/figures/before_after/{base}.{dataset}.png",
            base=HEAD_BASES,
            dataset=DATASETS,
        )
        out += [f"results/figures/training_curves/{TRAIN_DATASET}.png"]
    if PRIVACY_MODELS:
        out += ["results/tables/privacy.tsv"]
    return out


# --- explanations (workflow/rules/explain.smk) ---
EXPLAIN = config["explain"]
# every embedding model with its own weights has a map method (gradients for PyTorch networks,
# occlusion/RISE otherwise); the commercial APIs with credentials (VENDOR_MODELS) get occlusion/RISE
# through their 1:1 API (explain.vendors); a system built on another one's embeddings (a card with a
# `base`) is not explained (README, Explanations)
EXPLAIN_VENDORS = VENDOR_MODELS if EXPLAIN["activate"] and EXPLAIN["vendors"] else []
EXPLAIN_MODELS = [
    m
    for m in EMBEDDING_MODELS
    if EXPLAIN["activate"] and getattr(get_card(m), "base", None) is None
] + EXPLAIN_VENDORS


def get_explain_settings(wildcards):
    """The system's method and only that method's parameters (maskaudit/explain/run.py)."""
    from maskaudit.explain.run import settings_for

    return asdict(settings_for(model_card(wildcards), EXPLAIN))


def explanation_keys(dataset=None):
    """(dataset, model, variant) of every map file, in a fixed order (of one dataset when given)."""
    return [
        (d, m, v)
        for d in ([dataset] if dataset else DATASETS)
        for m in EXPLAIN_MODELS
        for v in dataset_variants(d)
    ]


def explanation_files(dataset=None):
    return [
        f"results/explanations/{m}/{d}/{v}.npz" for d, m, v in explanation_keys(dataset)
    ]


def explain_outputs():
    if not EXPLAIN_MODELS:
        return []
    return (
        ["results/tables/attention.tsv", "results/tables/attention_contrasts.tsv"]
        + expand("results/figures/saliency_grid/{dataset}.png", dataset=DATASETS)
        + expand(
            "results/figures/saliency_mean/{model}.{dataset}.png",
            model=EXPLAIN_MODELS,
            dataset=DATASETS,
        )
        + expand("results/figures/attention_forest/{dataset}.png", dataset=DATASETS)
    )
