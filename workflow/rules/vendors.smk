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


# Named target: everything a vendor job reads, so `maskaudit vendors plan` can price the run
# before anything is sent (`snakemake vendor_inputs`).
rule vendor_inputs:
    input:
        expand("results/faces/{dataset}/landmarks.npz", dataset=DATASETS),
        expand(
            "results/masked/{dataset}/{variant}/manifest.tsv",
            dataset=DATASETS,
            variant=VARIANTS,  # `none` too: the explanation maps' sample and unmasked photos
        ),
