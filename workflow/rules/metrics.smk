# Metrics per (model, dataset) over all variants (paired bootstrap), and the tables that collect them.
# The settings reach the script as one MetricsSettings (config keys -> fields in maskaudit/tables.py).

from maskaudit.tables import MetricsSettings


rule compute_metrics:
    input:
        reidentification=score_files("reidentification.tsv"),
        verification=score_files("verification.tsv"),
        identification=score_files("identification.tsv"),
        impostors=score_files("impostors.npz"),
        manifest="results/datasets/{dataset}/manifest.tsv",
        thresholds="results/thresholds/{model}/{dataset}.json",
    output:
        rates="results/metrics/{model}/{dataset}/rates.tsv",
        differentials="results/metrics/{model}/{dataset}/differentials.tsv",
        fairness="results/metrics/{model}/{dataset}/fairness.tsv",
        mask_effects="results/metrics/{model}/{dataset}/mask_effects.tsv",
        clustering="results/metrics/{model}/{dataset}/clustering.tsv",
        tests="results/metrics/{model}/{dataset}/tests.tsv",
    log:
        "logs/compute_metrics/{model}/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(4000, 50),
        runtime=scaled(30, 2),
    params:
        code=code_version("compute_metrics.py"),
        variants=lambda wildcards: [
            variant_entry(v) for v in dataset_variants(wildcards.dataset)
        ],
        settings=MetricsSettings.from_config(config),
    script:
        "../scripts/compute_metrics.py"


rule collect_table:
    input:
        unpack(get_table_inputs),
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
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("collect_table.py"),
        rows=get_table_rows,
    script:
        "../scripts/collect_table.py"
