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
    params:
        code=code_version("download_sources.py"),
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
    params:
        code=code_version("build_demo_dataset.py"),
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
    params:
        code=code_version("import_manifest.py"),
    script:
        "../scripts/import_manifest.py"


# Datasets read by an adapter (maskaudit/datasets/adapters): official archives -> extracted folder ->
# full manifest + issues + validation report -> seeded stratified sample (the manifest.tsv the
# later stages read). Downloads run on the submit host (localrules): cluster nodes often have no
# internet, and a manual archive is only looked for in downloads.manual_dir.


rule download_archive:
    output:
        archive="resources/downloads/{dataset}/{archive}",
        record="resources/downloads/{dataset}/{archive}.json",
    log:
        "logs/download_archive/{dataset}/{archive}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_with_access("direct")),
        archive=_one_of(ARCHIVE_KEYS),
    localrule: True
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 0),
        runtime=scaled(120, 0),
    params:
        code=code_version("download_archive.py"),
        archive=get_archive,
        retries=config["downloads"]["retries"],
        timeout=config["downloads"]["timeout_s"],
    script:
        "../scripts/download_archive.py"


rule locate_manual_archive:
    input:
        get_manual_archive,
    output:
        record="resources/downloads/{dataset}/{archive}.json",
    log:
        "logs/locate_manual_archive/{dataset}/{archive}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_with_access("manual")),
        archive=_one_of(ARCHIVE_KEYS),
    localrule: True
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(500, 0),
        runtime=scaled(5, 0),
    params:
        code=code_version("locate_manual_archive.py"),
        archive=get_archive,
        adapter=get_adapter_name,
        manual_dir=config["downloads"]["manual_dir"],
    script:
        "../scripts/locate_manual_archive.py"


rule extract_archives:
    input:
        records=get_archive_records,
    output:
        folder=directory("resources/extracted/{dataset}"),
    log:
        "logs/extract_archives/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("adapter")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 0),
        runtime=scaled(10, 0.05),
    params:
        code=code_version("extract_archives.py"),
    script:
        "../scripts/extract_archives.py"


rule build_dataset_manifest:
    input:
        folder="resources/extracted/{dataset}",
    output:
        manifest="results/datasets/{dataset}/full.tsv",
        issues="results/datasets/{dataset}/issues.tsv",
        report="results/datasets/{dataset}/validation.json",
    log:
        "logs/build_dataset_manifest/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("adapter")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.05),
    params:
        code=code_version("build_dataset_manifest.py"),
        adapter=get_adapter_name,
    script:
        "../scripts/build_dataset_manifest.py"


rule sample_dataset:
    input:
        manifest="results/datasets/{dataset}/full.tsv",
    output:
        manifest="results/datasets/{dataset}/manifest.tsv",
        cells="results/datasets/{dataset}/sampling.tsv",
    log:
        "logs/sample_dataset/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("adapter")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 2),
        runtime=scaled(5, 0.01),
    params:
        code=code_version("sample_dataset.py"),
        seed=config["seed"],
        sample=get_sample_params,
    script:
        "../scripts/sample_dataset.py"


# A synthetic stress dataset (scale tests only): seeded augmentations of another configured dataset,
# labelled synthetic in every row's `source`, under its own dataset id.


rule build_stress_dataset:
    input:
        manifest=lambda wildcards: f"results/datasets/{config['datasets'][wildcards.dataset]['from']}/manifest.tsv",
    output:
        manifest="results/datasets/{dataset}/manifest.tsv",
        images=directory("results/datasets/{dataset}/images"),
    log:
        "logs/build_stress_dataset/{dataset}.log",
    wildcard_constraints:
        dataset=_one_of(datasets_built_by("stress")),
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 0),
        runtime=scaled(30, 0),
    params:
        code=code_version("build_stress_dataset.py"),
        size=lambda wildcards: config["datasets"][wildcards.dataset]["size"],
        max_side=lambda wildcards: config["datasets"][wildcards.dataset].get(
            "max_side", 640
        ),
        seed=config["seed"],
    script:
        "../scripts/build_stress_dataset.py"
