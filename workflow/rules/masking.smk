# Masked variants: the project's own landmark-anchored renderer, one image set per (dataset, variant).


rule mask_images:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        images=directory("results/masked/{dataset}/{masked_variant}/images"),
        manifest="results/masked/{dataset}/{masked_variant}/manifest.tsv",
    log:
        "logs/mask_images/{dataset}/{masked_variant}.log",
    conda:
        "../envs/masking.yaml"
    threads: 1
    resources:
        mem_mb=scaled(3000, 10),
        runtime=scaled(20, 10),
    params:
        variant=get_variant,
        seed=config["seed"],
    script:
        "../scripts/mask_images.py"
