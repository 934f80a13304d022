# Mitigation (maskaudit/mitigation): heads trained on a base system's cached embeddings (backbone
# frozen) from the masked/unmasked pairs of the training dataset's train identities, selected on its
# val identities; each head is a system `<base>+<loss>` whose caches are the base's through the head,
# so scoring, metrics, tables and figures run on it unchanged. The before/after view compares each
# base with its heads on held-out identities only.


rule split_identities:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
    output:
        split="results/mitigation/{dataset}/split.tsv",
    log:
        "logs/split_identities/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(5, 1),
    params:
        code=code_version("split_identities.py"),
        seed=config["seed"],
        split=MITIGATION["split"],
    script:
        "../scripts/split_identities.py"


rule train_head:
    input:
        unpack(get_head_training_inputs),
    output:
        checkpoint="results/heads/{model}/checkpoint.npz",
        curve="results/heads/{model}/curve.tsv",
        config="results/heads/{model}/config.json",
    log:
        "logs/train_head/{model}.log",
    wildcard_constraints:
        model=_one_of(HEAD_MODELS),
    conda:
        "../envs/embed-torch.yaml"
    threads: 1
    resources:
        gpu=get_model_gpu,
        mem_mb=scaled(2000, 20),
        runtime=scaled(30, 2),
    params:
        code=code_version("train_head.py"),
        base=get_head_base,
        loss=get_head_loss,
        dataset=TRAIN_DATASET,
        variants=HEAD_TRAINING_VARIANTS,
        seed=config["seed"],
        device=MITIGATION["device"],
        settings=get_head_settings,
    script:
        "../scripts/train_head.py"


rule embed_with_head:
    input:
        unpack(get_head_embedding_inputs),
        checkpoint="results/heads/{model}/checkpoint.npz",
    output:
        cache="results/embeddings/{model}/{dataset}/{variant}.npz",
        sidecar="results/embeddings/{model}/{dataset}/{variant}.json",
    log:
        "logs/embed_with_head/{model}/{dataset}/{variant}.log",
    wildcard_constraints:
        model=_one_of(HEAD_MODELS),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(5, 1),
    params:
        code=code_version("embed_with_head.py"),
    script:
        "../scripts/embed_with_head.py"


rule compare_heads:
    input:
        unpack(get_compare_heads_inputs),
        manifest="results/datasets/{dataset}/manifest.tsv",
        near_duplicates="results/protocol/{dataset}/near_duplicates.tsv",
    output:
        table="results/mitigation/{dataset}/{base}.tsv",
    log:
        "logs/compare_heads/{dataset}/{base}.log",
    wildcard_constraints:
        base=_one_of(HEAD_BASES),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 20),
        runtime=scaled(15, 2),
    params:
        code=code_version("compare_heads.py"),
        systems=get_compared_systems,
        variants=get_dataset_variants,
        fmr_targets=config["protocol"]["fmr_targets"],
        stats=MetricsSettings.from_config(config),
        seed=config["seed"],
    script:
        "../scripts/compare_heads.py"


rule collect_before_after:
    input:
        parts=expand(
            "results/mitigation/{dataset}/{base}.tsv",
            dataset=DATASETS,
            base=HEAD_BASES,
        ),
    output:
        table=report(
            "results/tables/before_after.tsv",
            caption="../report/mitigation_tables.rst",
            category="Tables",
            labels={"table": "before_after"},
        ),
    log:
        "logs/collect_before_after.log",
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


rule plot_before_after:
    input:
        table="results/mitigation/{dataset}/{base}.tsv",
    output:
        figure=report(
            "results/figures/before_after/{base}.{dataset}.png",
            caption="../report/before_after.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{base}", "figure": "before/after mitigation"},
        ),
    log:
        "logs/plot_before_after/{base}.{dataset}.log",
    wildcard_constraints:
        base=_one_of(HEAD_BASES),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(5, 1),
    params:
        code=code_version("plot_mitigation.py"),
        figure="before_after",
    script:
        "../scripts/plot_mitigation.py"


rule plot_training_curves:
    input:
        curves=expand("results/heads/{head}/curve.tsv", head=HEAD_MODELS),
    output:
        figure=report(
            "results/figures/training_curves/{dataset}.png",
            caption="../report/training_curves.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "mitigation heads", "figure": "training curves"},
        ),
    log:
        "logs/plot_training_curves/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(5, 1),
    params:
        code=code_version("plot_mitigation.py"),
        figure="training_curves",
        heads=HEAD_MODELS,
    script:
        "../scripts/plot_mitigation.py"
