# Metrics per (model, dataset, variant) and the tables that collect them.


rule compute_metrics:
    input:
        verification="results/scores/verification/{model}/{dataset}/{variant}.tsv",
        identification="results/scores/identification/{model}/{dataset}/{variant}.tsv",
        manifest="results/datasets/{dataset}/manifest.tsv",
    output:
        metrics="results/metrics/{model}/{dataset}/{variant}.tsv",
    log:
        "logs/compute_metrics/{model}/{dataset}/{variant}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(4000, 10),
        runtime=scaled(15, 2),
    params:
        variant=get_variant,
        threshold=get_model_threshold,
        fmr_target=config["protocol"]["fmr_target"],
        rank_k=config["protocol"]["rank_k"],
    script:
        "../scripts/compute_metrics.py"


rule collect_table:
    input:
        metrics=expand(
            "results/metrics/{model}/{dataset}/{variant}.tsv",
            model=MODELS,
            dataset=DATASETS,
            variant=VARIANTS,
        ),
    output:
        table=report(
            "results/tables/{table}.tsv",
            caption="../report/tables.rst",
            category="Tables",
            labels={"table": "{table}"},
        ),
    log:
        "logs/collect_table/{table}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 10),
        runtime=scaled(10, 1),
    script:
        "../scripts/collect_table.py"
