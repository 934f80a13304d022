# Raw downloads -> one manifest per dataset (the contract every later stage reads).


rule download_sources:
    input:
        sources=get_sources_spec,
    output:
        listing="resources/downloads/{dataset}/downloads.tsv",
    log:
        "logs/download_sources/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("demo")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/download_sources.py"


rule build_demo_dataset:
    input:
        sources=get_sources_spec,
        listing="resources/downloads/{dataset}/downloads.tsv",
    output:
        manifest="results/datasets/{dataset}/manifest.tsv",
        images=directory("results/datasets/{dataset}/images"),
    log:
        "logs/build_demo_dataset/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("demo")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(15),
    script:
        "../scripts/build_demo_dataset.py"


rule import_manifest:
    input:
        manifest=get_user_manifest,
    output:
        manifest="results/datasets/{dataset}/manifest.tsv",
    log:
        "logs/import_manifest/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("manifest")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(10, 1),
    script:
        "../scripts/import_manifest.py"
