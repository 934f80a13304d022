# Figures: where people would rather look than read.


rule plot_accuracy_by_variant:
    input:
        metrics=expand(
            "results/metrics/{{model}}/{{dataset}}/{variant}.tsv", variant=VARIANTS
        ),
    output:
        figure=report(
            "results/figures/accuracy_by_variant/{model}.{dataset}.png",
            caption="../report/accuracy_by_variant.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "accuracy by variant and group"},
        ),
    log:
        "logs/plot_accuracy_by_variant/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 5),
        runtime=scaled(10, 1),
    script:
        "../scripts/plot_accuracy_by_variant.py"


rule plot_score_distributions:
    input:
        scores=expand(
            "results/scores/verification/{{model}}/{{dataset}}/{variant}.tsv",
            variant=VARIANTS,
        ),
    output:
        figure=report(
            "results/figures/score_distributions/{model}.{dataset}.png",
            caption="../report/score_distributions.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "score distributions"},
        ),
    log:
        "logs/plot_score_distributions/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 5),
        runtime=scaled(10, 1),
    script:
        "../scripts/plot_score_distributions.py"


rule plot_mask_gallery:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
        variants=expand(
            "results/masked/{{dataset}}/{variant}/manifest.tsv", variant=MASK_VARIANTS
        ),
    output:
        figure=report(
            "results/figures/mask_gallery/{dataset}.png",
            caption="../report/mask_gallery.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "all", "figure": "mask gallery"},
        ),
    log:
        "logs/plot_mask_gallery/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 5),
        runtime=scaled(10, 1),
    script:
        "../scripts/plot_mask_gallery.py"


rule plot_face_chips:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        figure=report(
            "results/figures/face_chips/{dataset}.png",
            caption="../report/face_chips.rst",
            category="Data",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "table": "aligned face chips"},
        ),
    log:
        "logs/plot_face_chips/{dataset}.log",
    conda:
        "../envs/detect.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 5),
        runtime=scaled(10, 1),
    script:
        "../scripts/plot_face_chips.py"
