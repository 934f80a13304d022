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
include: "workflow/rules/scoring.smk"
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
    plot_mask_gallery,
    plot_face_chips,
    render_system_card,
    render_audit_report,


rule all:
    default_target: True
    input:
        get_final_outputs() + mitigation_outputs() + explain_outputs(),
        "results/audit.html",


# Named targets: `snakemake <rule>` (or the file path) builds just that table or figure.
rule table_overall:
    input:
        "results/tables/overall.tsv",


rule table_by_gender:
    input:
        "results/tables/by_gender.tsv",


rule table_by_race:
    input:
        "results/tables/by_race.tsv",


rule table_by_gender_race:
    input:
        "results/tables/by_gender_race.tsv",


rule table_differentials:
    input:
        "results/tables/differentials.tsv",


rule table_fairness:
    input:
        "results/tables/fairness.tsv",


rule table_mask_effects:
    input:
        "results/tables/mask_effects.tsv",


rule table_mask_colour_by_race:
    input:
        "results/tables/mask_colour_by_race.tsv",


rule table_clustering:
    input:
        "results/tables/clustering.tsv",


rule table_tests:
    input:
        "results/tables/tests.tsv",


rule table_thresholds:
    input:
        "results/tables/thresholds.tsv",


rule table_duplicates:
    input:
        "results/tables/duplicates.tsv",


rule figure_rates_by_variant:
    input:
        figure_paths("rates_by_variant"),


rule figure_score_distributions:
    input:
        figure_paths("score_distributions"),


rule figure_det:
    input:
        figure_paths("det"),


rule figure_cmc:
    input:
        figure_paths("cmc"),


rule figure_forest:
    input:
        figure_paths("forest"),


rule figure_mask_colour:
    input:
        figure_paths("mask_colour"),


rule figure_clustering:
    input:
        figure_paths("clustering"),


rule figure_heatmap:
    input:
        expand("results/figures/heatmap/{dataset}.png", dataset=DATASETS),


rule figure_mask_gallery:
    input:
        expand("results/figures/mask_gallery/{dataset}.png", dataset=DATASETS),


rule figure_face_chips:
    input:
        expand("results/figures/face_chips/{dataset}.png", dataset=DATASETS),


# The findings page (results/audit.html) and one card per system (results/report/cards/<model>.<dataset>.html).
rule audit_report:
    input:
        "results/audit.html",


rule report_cards:
    input:
        card_paths("html"),


# The human baseline (workflow/rules/survey.smk): `snakemake survey_trials` builds the trials, the
# answer key and the bundle `maskaudit survey serve` serves; the others analyse `survey.responses`.
rule survey_trials:
    input:
        expand("results/survey/{dataset}/key.tsv", dataset=SURVEY_DATASET or []),


rule table_survey:
    input:
        expand("results/tables/survey_{t}.tsv", t=SURVEY_TABLES),


rule figure_survey:
    input:
        expand("results/figures/survey/{f}.png", f=SURVEY_FIGURES),


rule table_before_after:
    input:
        "results/tables/before_after.tsv",


rule table_privacy:
    input:
        "results/tables/privacy.tsv",


rule figure_before_after:
    input:
        expand(
            "results/figures/before_after/{base}.{dataset}.png",
            base=HEAD_BASES,
            dataset=DATASETS,
        ),


# Explanations (workflow/rules/explain.smk)
rule table_attention:
    input:
        "results/tables/attention.tsv",
        "results/tables/attention_contrasts.tsv",


rule figure_saliency_grid:
    input:
        expand("results/figures/saliency_grid/{dataset}.png", dataset=DATASETS),


rule figure_saliency_mean:
    input:
        expand(
            "results/figures/saliency_mean/{model}.{dataset}.png",
            model=EXPLAIN_MODELS,
            dataset=DATASETS,
        ),


rule figure_training_curves:
    input:
        expand("results/figures/training_curves/{dataset}.png", dataset=TRAIN_DATASET),


rule figure_attention_forest:
    input:
        expand("results/figures/attention_forest/{dataset}.png", dataset=DATASETS),
