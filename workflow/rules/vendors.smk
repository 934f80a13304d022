# Commercial APIs (comparison-only systems): one comparisons file per (vendor, dataset, variant).
# Each vendor's jobs run one at a time (resource api_<vendor>=1 in the profile); calls are cached in
# vendors.cache_dir, so a rerun or a second study on the same images sends nothing.


rule compare_vendor:
    input:
        images=get_images_table,
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        comparisons="results/comparisons/{model}/{dataset}/{variant}.npz",
        sidecar="results/comparisons/{model}/{dataset}/{variant}.json",
    log:
        "logs/compare_vendor/{model}/{dataset}/{variant}.log",
    wildcard_constraints:
        model=_one_of(VENDOR_MODELS),
    conda:
        "../envs/vendors.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 5),
        runtime=scaled(120, 0),
        api_rekognition=vendor_slot("rekognition"),
        api_azure=vendor_slot("azure"),
        api_facepp=vendor_slot("facepp"),
        api_facex=vendor_slot("facex"),
    params:
        code=code_version("compare_vendor.py"),
        vendor=get_vendor_params,
        seed=config["seed"],
        impostors_per_probe=config["vendors"]["impostors_per_probe"],
    script:
        "../scripts/compare_vendor.py"


# Named target: every vendor's comparisons (`snakemake vendor_comparisons`).
rule vendor_comparisons:
    input:
        expand(
            "results/comparisons/{model}/{dataset}/{variant}.npz",
            model=VENDOR_MODELS,
            dataset=DATASETS,
            variant=VARIANTS,
        ),


# Everything a vendor job reads, and the table of jobs and inputs `maskaudit vendors plan` prices
# before anything is sent (`snakemake vendor_inputs`).
rule list_vendor_inputs:
    input:
        vendor_job_files(),
    output:
        table="results/comparisons/inputs.tsv",
    log:
        "logs/list_vendor_inputs.log",
    conda:
        "../envs/vendors.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(5),
    params:
        code=code_version("list_vendor_inputs.py"),
        jobs=vendor_job_inputs(),
    script:
        "../scripts/list_vendor_inputs.py"


rule vendor_inputs:
    input:
        "results/comparisons/inputs.tsv",
