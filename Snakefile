# maskaudit: audit face-recognition systems on synthetically masked faces.
#
# results/ grammar (one folder per stage, wildcards in the order of the data model):
#   datasets/<dataset>/manifest.tsv                      one row per image: id, path, identity, gender, race
#   faces/<dataset>/{landmarks.npz,acquisition.tsv}      detection + 68 landmarks, once per image
#   faces/<dataset>/shards/<i>-of-<n>.{npz,tsv}          the same, per detection shard (merged above)
#   masked/<dataset>/<variant>/{images/,manifest.tsv}    one rendered set per mask variant
#   located/<detector>/<dataset>/<variant>.npz           end_to_end: a deepface detector's regions, shared by models
#   embeddings/<model>/<dataset>/<variant>.{npz,json}    embedding cache + sidecar (model version, preprocessing)
#   comparisons/<vendor>/<dataset>/<variant>.{npz,json}  a commercial API's scores (comparison-only systems)
#   protocol/<dataset>/images.tsv                        near-duplicates (within, across identities), open-set, calibration
#   thresholds/<model>/<dataset>.json                    global thresholds fixed on the unmasked baseline
#   scores/<model>/<dataset>/<variant>/{reidentification,verification,identification}.tsv, impostors.npz
#   metrics/<model>/<dataset>/<table>.tsv                rates, differentials, fairness, mask effects, clustering, tests
#   survey/<dataset>/{key,design}.tsv, bundle/, machines/<model>.tsv   the human baseline's trials
#   heads/<base>+<loss>/{checkpoint.npz,curve.tsv,config.json}  a mitigation head, trained on <base>'s caches
#   mitigation/<dataset>/{split.tsv,<base>.tsv}          identity split; a base and its heads before/after
#   privacy/<model>/<dataset>.tsv                        attribute probes on a system's embeddings
#   tables/<table>.tsv, figures/<figure>/<...>.png       what the report shows
# The variant `none` is the unmasked baseline.

from snakemake.utils import min_version

min_version("9.0")


# `--configfile my.yaml` replaces this file (it is not merged into it), so a study's config is
# complete on its own and mask variants or datasets never leak in from the demo.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/detection.smk"
include: "workflow/rules/masking.smk"
include: "workflow/rules/embedding.smk"
include: "workflow/rules/vendors.smk"
include: "workflow/rules/protocol.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/explain.smk"
include: "workflow/rules/mitigation.smk"
include: "workflow/rules/privacy.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/survey.smk"
include: "workflow/rules/report.smk"


# Downloads (compute nodes often have no internet) and cheap bookkeeping stay on the submit host
# when running on a cluster.
localrules:
    all,
    download_sources,
    collect_table,
    tabulate_duplicates,
    list_vendor_inputs,
    plot_mask_gallery,
    plot_face_chips,
    render_system_card,
    render_audit_report,


rule all:
    default_target: True
    input:
        get_final_outputs() + mitigation_outputs() + explain_outputs(),
        "results/audit.html",


# Named targets: `snakemake <name>` (or the file path) builds just that table or figure.
NAMED_TARGETS = {
    # the audit's tables and figures (workflow/rules/common.smk: TABLES, FIGURES)
    **{f"table_{t}": f"results/tables/{t}.tsv" for t in TABLES},
    "table_duplicates": DUPLICATE_TABLES,
    **{f"figure_{f}": figure_paths(f) for f in FIGURES},
    # the findings page (results/audit.html) and one card per system (results/report/cards/)
    "audit_report": "results/audit.html",
    "report_cards": card_paths("html"),
    # the human baseline (workflow/rules/survey.smk): `survey_trials` builds the trials, the answer
    # key and the bundle `maskaudit survey serve` serves; the others analyse `survey.responses`
    "survey_trials": expand(
        "results/survey/{dataset}/key.tsv", dataset=SURVEY_DATASET or []
    ),
    "table_survey": expand("results/tables/survey_{t}.tsv", t=SURVEY_TABLES),
    "figure_survey": expand("results/figures/survey/{f}.png", f=SURVEY_FIGURES),
    # mitigation heads and the privacy probe (workflow/rules/mitigation.smk, privacy.smk)
    "table_before_after": "results/tables/before_after.tsv",
    "table_privacy": "results/tables/privacy.tsv",
    "figure_before_after": expand(
        "results/figures/before_after/{base}.{dataset}.png",
        base=HEAD_BASES,
        dataset=DATASETS,
    ),
    # explanations (workflow/rules/explain.smk)
    "table_attention": [
        "results/tables/attention.tsv",
        "results/tables/attention_contrasts.tsv",
    ],
    "figure_saliency_grid": expand(
        "results/figures/saliency_grid/{dataset}.png", dataset=DATASETS
    ),
    "figure_saliency_mean": expand(
        "results/figures/saliency_mean/{model}.{dataset}.png",
        model=EXPLAIN_MODELS,
        dataset=DATASETS,
    ),
    "figure_training_curves": expand(
        "results/figures/training_curves/{dataset}.png", dataset=TRAIN_DATASET
    ),
    "figure_attention_forest": expand(
        "results/figures/attention_forest/{dataset}.png", dataset=DATASETS
    ),
}

for _target, _paths in NAMED_TARGETS.items():

    rule:
        name:
            _target
        input:
            _paths,
