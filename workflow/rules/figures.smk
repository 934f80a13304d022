# Figures: where people would rather look than read.


rule plot_rates_by_variant:
    input:
        rates="results/metrics/{model}/{dataset}/rates.tsv",
    output:
        figure=report(
            "results/figures/rates_by_variant/{model}.{dataset}.png",
            caption="../report/rates_by_variant.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "rates by variant and group"},
        ),
    log:
        "logs/plot_rates_by_variant/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_rates_by_variant.py"),
    script:
        "../scripts/plot_rates_by_variant.py"


rule plot_score_distributions:
    input:
        reidentification=score_files("reidentification.tsv"),
        verification=score_files("verification.tsv"),
        impostors=score_files("impostors.npz"),
        thresholds="results/thresholds/{model}/{dataset}.json",
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
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_score_distributions.py"),
        variants=get_dataset_variants,
    script:
        "../scripts/plot_score_distributions.py"


rule plot_det:
    input:
        verification=score_files("verification.tsv"),
        impostors=score_files("impostors.npz"),
        manifest="results/datasets/{dataset}/manifest.tsv",
    output:
        figure=report(
            "results/figures/det/{model}.{dataset}.png",
            caption="../report/det.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "DET curves per group"},
        ),
    log:
        "logs/plot_det/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_det.py"),
        variants=get_dataset_variants,
    script:
        "../scripts/plot_det.py"


rule plot_cmc:
    input:
        identification=score_files("identification.tsv"),
    output:
        figure=report(
            "results/figures/cmc/{model}.{dataset}.png",
            caption="../report/cmc.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "CMC curves"},
        ),
    log:
        "logs/plot_cmc/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_cmc.py"),
        variants=get_dataset_variants,
    script:
        "../scripts/plot_cmc.py"


rule plot_forest:
    input:
        differentials="results/tables/differentials.tsv",
    output:
        figure=report(
            "results/figures/forest/{model}.{dataset}.png",
            caption="../report/forest.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "forest plot of differentials"},
        ),
    log:
        "logs/plot_forest/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_forest.py"),
    script:
        "../scripts/plot_forest.py"


rule plot_mask_colour:
    input:
        rates="results/metrics/{model}/{dataset}/rates.tsv",
    output:
        figure=report(
            "results/figures/mask_colour/{model}.{dataset}.png",
            caption="../report/mask_colour.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "rates by mask colour and race"},
        ),
    log:
        "logs/plot_mask_colour/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_mask_colour.py"),
    script:
        "../scripts/plot_mask_colour.py"


rule plot_clustering:
    input:
        clustering="results/metrics/{model}/{dataset}/clustering.tsv",
    output:
        figure=report(
            "results/figures/clustering/{model}.{dataset}.png",
            caption="../report/clustering.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "clustering index per component"},
        ),
    log:
        "logs/plot_clustering/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_clustering.py"),
    script:
        "../scripts/plot_clustering.py"


rule plot_heatmap:
    input:
        table="results/tables/by_race.tsv",
    output:
        figure=report(
            "results/figures/heatmap/{dataset}.png",
            caption="../report/heatmap.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "all", "figure": "heatmap models x groups"},
        ),
    log:
        "logs/plot_heatmap/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_heatmap.py"),
    script:
        "../scripts/plot_heatmap.py"


rule plot_mask_gallery:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
        variants=lambda wildcards: expand(
            "results/masked/{dataset}/{variant}/manifest.tsv",
            dataset=wildcards.dataset,
            variant=dataset_variants(wildcards.dataset),
        ),
    output:
        # Not in `snakemake --report`: these contact sheets of faces were 2.9 of its 7.2 MB (demo, 3 variants) and
        # grow with the images; the findings page (results/audit.html) links to them instead.
        figure="results/figures/mask_gallery/{dataset}.png",
    log:
        "logs/plot_mask_gallery/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(15, 0.1),
    params:
        code=code_version("plot_mask_gallery.py"),
    script:
        "../scripts/plot_mask_gallery.py"


rule plot_face_chips:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        figure="results/figures/face_chips/{dataset}.png",  # linked from results/audit.html, not in --report
    log:
        "logs/plot_face_chips/{dataset}.log",
    conda:
        "../envs/detect.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(15, 0.1),
    params:
        code=code_version("plot_face_chips.py"),
        limit=64,
        seed=config["seed"],
    script:
        "../scripts/plot_face_chips.py"
