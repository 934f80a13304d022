# Privacy probe (maskaudit/privacy): can gender, race and age still be predicted from a system's
# embeddings of masked faces? Linear and MLP probes per (system, dataset), identity-disjoint CV.


rule probe_attributes:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        caches=lambda w: expand(
            "results/embeddings/{model}/{dataset}/{variant}.npz",
            model=w.model,
            dataset=w.dataset,
            variant=dataset_variants(w.dataset),
        ),
    output:
        table="results/privacy/{model}/{dataset}.tsv",
    log:
        "logs/probe_attributes/{model}/{dataset}.log",
    wildcard_constraints:
        model=_one_of(PRIVACY_MODELS),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 20),
        runtime=scaled(30, 5),
    params:
        code=code_version("probe_attributes.py"),
        variants=get_dataset_variants,
        privacy=PRIVACY,
        stats=MetricsSettings.from_config(config),
        seed=config["seed"],
    script:
        "../scripts/probe_attributes.py"


rule collect_privacy:
    input:
        parts=expand(
            "results/privacy/{model}/{dataset}.tsv",
            model=PRIVACY_MODELS,
            dataset=DATASETS,
        ),
    output:
        table=report(
            "results/tables/privacy.tsv",
            caption="../report/mitigation_tables.rst",
            category="Tables",
            labels={"table": "privacy"},
        ),
    log:
        "logs/collect_privacy.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(5, 1),
    params:
        code=code_version("collect_rows.py"),
    script:
        "../scripts/collect_rows.py"
