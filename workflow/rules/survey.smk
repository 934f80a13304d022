# The human baseline (maskaudit/survey): trials built from an audited dataset, every system's answers
# to the same trials from its caches, and the analysis of the collected (or synthetic) responses.

from maskaudit.survey.trials import Design


rule build_survey:
    input:
        unpack(get_survey_masked),
        manifest="results/datasets/{dataset}/manifest.tsv",
        protocol="results/protocol/{dataset}/images.tsv",
    output:
        key="results/survey/{dataset}/key.tsv",
        design="results/survey/{dataset}/design.tsv",
        bundle=directory("results/survey/{dataset}/bundle"),
    log:
        "logs/build_survey/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("build_survey.py"),
        design=Design.from_config(SURVEY, config["seed"]),
    script:
        "../scripts/build_survey.py"


rule score_survey:
    input:
        unpack(get_survey_score_inputs),
        key="results/survey/{dataset}/key.tsv",
        thresholds="results/thresholds/{model}/{dataset}.json",
    output:
        answers="results/survey/{dataset}/machines/{model}.tsv",
    log:
        "logs/score_survey/{model}/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 3),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("score_survey.py"),
        threshold=SURVEY["machine_threshold"],
    script:
        "../scripts/score_survey.py"


rule analyse_survey:
    input:
        key=f"results/survey/{SURVEY_DATASET}/key.tsv",
        responses=SURVEY["responses"] or [],
        machines=expand(
            "results/survey/{dataset}/machines/{model}.tsv",
            dataset=SURVEY_DATASET,
            model=MODELS,
        ),
        manifest=f"results/datasets/{SURVEY_DATASET}/manifest.tsv",
    output:
        **{
            t: report(
                f"results/tables/survey_{t}.tsv",
                caption="../report/survey.rst",
                category="Human baseline",
                labels={"table": f"survey_{t}"},
            )
            for t in SURVEY_TABLES
        },
    log:
        "logs/analyse_survey.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 5),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("analyse_survey.py"),
        systems=MODELS,
        stats=MetricsSettings.from_config(config),
        survey=survey_settings("dataset", "min_attention"),
        seed=config["seed"],
    script:
        "../scripts/analyse_survey.py"


rule plot_survey:
    input:
        **{t: f"results/tables/survey_{t}.tsv" for t in SURVEY_TABLES},
    output:
        **{
            f: report(
                f"results/figures/survey/{f}.png",
                caption="../report/survey.rst",
                category="Human baseline",
                labels={"figure": f},
            )
            for f in SURVEY_FIGURES
        },
    log:
        "logs/plot_survey.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_survey.py"),
    script:
        "../scripts/plot_survey.py"
