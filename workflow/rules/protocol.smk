# Scores: the protocol's image table, global thresholds from the unmasked baseline, and the score
# files of each (model, dataset, variant): re-identification, verification, identification, impostors.


rule build_protocol:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        images="results/protocol/{dataset}/images.tsv",
        near_duplicates="results/protocol/{dataset}/near_duplicates.tsv",
        duplicates="results/protocol/{dataset}/duplicates.tsv",
    log:
        "logs/build_protocol/{dataset}.log",
    conda:
        "../envs/detect.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 20),
        runtime=scaled(10, 2),
    params:
        code=code_version("build_protocol.py"),
        seed=config["seed"],
        min_correlation=config["protocol"]["near_duplicate_min_correlation"],
        min_overlap=config["protocol"]["near_duplicate_min_overlap"],
        holdout=config["protocol"]["open_set_holdout"],
        max_within_share=config["protocol"]["near_duplicate_max_share"],
        calibration_share=config["protocol"]["calibration_share"],
    script:
        "../scripts/build_protocol.py"


# The duplicate screen of every dataset in one table (within-identity share, pairs across identities).
rule tabulate_duplicates:
    input:
        duplicates=expand("results/protocol/{dataset}/duplicates.tsv", dataset=DATASETS),
    output:
        table=report(
            "results/tables/duplicates.tsv",
            caption="../report/tables.rst",
            category="Tables",
            labels={"table": "duplicates"},
        ),
    log:
        "logs/tabulate_duplicates.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 2),
        runtime=scaled(5, 0.1),
    params:
        code=code_version("tabulate_duplicates.py"),
    script:
        "../scripts/tabulate_duplicates.py"


rule fix_thresholds:
    input:
        unpack(get_baseline_score_inputs),
        manifest="results/datasets/{dataset}/manifest.tsv",
        protocol="results/protocol/{dataset}/images.tsv",
    output:
        thresholds="results/thresholds/{model}/{dataset}.json",
    log:
        "logs/fix_thresholds/{model}/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(3000, 20),
        runtime=scaled(15, 2),
    params:
        code=code_version("fix_thresholds.py"),
        protocol=config["protocol"],
        seed=config["seed"],
    script:
        "../scripts/fix_thresholds.py"


rule score_comparisons:
    input:
        unpack(get_score_inputs),
        manifest="results/datasets/{dataset}/manifest.tsv",
        protocol="results/protocol/{dataset}/images.tsv",
        thresholds="results/thresholds/{model}/{dataset}.json",
    output:
        reidentification="results/scores/{model}/{dataset}/{variant}/reidentification.tsv",
        verification="results/scores/{model}/{dataset}/{variant}/verification.tsv",
        identification="results/scores/{model}/{dataset}/{variant}/identification.tsv",
        impostors="results/scores/{model}/{dataset}/{variant}/impostors.npz",
    log:
        "logs/score_comparisons/{model}/{dataset}/{variant}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(3000, 20),
        runtime=scaled(15, 2),
    params:
        code=code_version("score_comparisons.py"),
        variant=get_variant,
        protocol=config["protocol"],
        seed=config["seed"],
    script:
        "../scripts/score_comparisons.py"
