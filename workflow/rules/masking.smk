# Stored variants: the project's own landmark-anchored mask renderer, one image set per (dataset,
# variant). The unmasked baseline `none` is stored here too, cropped and encoded like the masks.


rule mask_images:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        images=directory("results/masked/{dataset}/{variant}/images"),
        manifest="results/masked/{dataset}/{variant}/manifest.tsv",
    log:
        "logs/mask_images/{dataset}/{variant}.log",
    conda:
        "../envs/masking.yaml"
    threads: 1
    resources:
        mem_mb=scaled(3000, 10),
        runtime=scaled(20, 10),
    params:
        code=code_version("mask_images.py"),
        variant=get_variant,
        storage=config["masks"]["storage"],
        seed=config["seed"],
    script:
        "../scripts/mask_images.py"
