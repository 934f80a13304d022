# Explanations (maskaudit/explain): saliency maps per (system, dataset, variant) on a seeded sample of
# photos, in image coordinates; region shares and the attention shift with identity-bootstrap
# intervals; overlay grid, mean maps on a landmark template and a forest plot. Each system runs in
# its embedding env with its embedding resources (a GPU for the PyTorch systems where available).


rule explain_images:
    input:
        unpack(get_located),
        images=get_images_table,
        baseline="results/masked/{dataset}/none/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
        weights="resources/weights/{model}.json",
        reference="results/embeddings/{model}/{dataset}/none.npz",
    output:
        maps="results/explanations/{model}/{dataset}/{variant}.npz",
    log:
        "logs/explain_images/{model}/{dataset}/{variant}.log",
    wildcard_constraints:
        model=_one_of([m for m in EXPLAIN_MODELS if m not in EXPLAIN_VENDORS]),
    conda:
        get_model_env
    threads: get_model_threads
    resources:
        gpu=get_model_gpu,
        gpu_mem_mb=get_model_gpu_mem_mb,
        mem_mb=get_model_mem_mb,
        runtime=get_model_runtime,
    params:
        code=code_version("explain_images.py"),
        alignment=EMBEDDING["alignment"],
        overrides=get_model_overrides,
        faces=EXPLAIN["faces"],
        settings=get_explain_settings,
        device=EMBEDDING["device"],
        weights_dir=config["weights_dir"],
        fetch_dir=lambda w, input: os.path.dirname(input.weights),
    script:
        "../scripts/explain_images.py"


# A commercial API: occlusion/RISE through its 1:1 compare, every request through the vendor cache,
# ledger and cap (maskaudit/explain/vendor.py); one job per vendor at a time, like compare_vendor.
# The caps are params: raising one reruns the maps it cut short (the answers already cached are free).
rule explain_vendor:
    input:
        images=get_images_table,
        baseline="results/masked/{dataset}/none/manifest.tsv",
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        maps="results/explanations/{model}/{dataset}/{variant}.npz",
    log:
        "logs/explain_vendor/{model}/{dataset}/{variant}.log",
    wildcard_constraints:
        model=_one_of(EXPLAIN_VENDORS),
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
        code=code_version("explain_vendor.py"),
        vendor=get_vendor_params,
        caps=get_vendor_caps,
        faces=EXPLAIN["faces"],
        settings=get_explain_settings,
    script:
        "../scripts/explain_vendor.py"


rule tabulate_attention:
    input:
        maps=explanation_files(),
        manifests=expand("results/datasets/{dataset}/manifest.tsv", dataset=DATASETS),
    output:
        attention=report(
            "results/tables/attention.tsv",
            caption="../report/attention.rst",
            category="Tables",
            labels={"table": "attention"},
        ),
        contrasts=report(
            "results/tables/attention_contrasts.tsv",
            caption="../report/attention.rst",
            category="Tables",
            labels={"table": "attention_contrasts"},
        ),
    log:
        "logs/tabulate_attention.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("tabulate_attention.py"),
        map_keys=explanation_keys(),
        datasets=DATASETS,
        seed=EXPLAIN["seed"],
        bootstrap=config["stats"]["bootstrap"],
        permutations=config["stats"]["permutations"],
        confidence=config["stats"]["confidence"],
        min_identities=config["stats"]["min_identities"],
    script:
        "../scripts/tabulate_attention.py"


rule plot_saliency_grid:
    input:
        maps=lambda w: explanation_files(w.dataset),
        images=lambda w: expand(
            "results/masked/{dataset}/{variant}/manifest.tsv",
            dataset=w.dataset,
            variant=dataset_variants(w.dataset),
        ),
    output:
        figure=report(
            "results/figures/saliency_grid/{dataset}.png",
            caption="../report/saliency_grid.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "all", "figure": "saliency overlays"},
        ),
    log:
        "logs/plot_saliency_grid/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_saliency_grid.py"),
        map_keys=lambda w: explanation_keys(w.dataset),
        shown=EXPLAIN["shown_faces"],
    script:
        "../scripts/plot_saliency_grid.py"


rule plot_saliency_mean:
    input:
        maps=lambda w: expand(
            "results/explanations/{model}/{dataset}/{variant}.npz",
            model=w.model,
            dataset=w.dataset,
            variant=dataset_variants(w.dataset),
        ),
        manifest="results/datasets/{dataset}/manifest.tsv",
    output:
        figure=report(
            "results/figures/saliency_mean/{model}.{dataset}.png",
            caption="../report/saliency_mean.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "{model}", "figure": "mean saliency per group"},
        ),
    log:
        "logs/plot_saliency_mean/{model}.{dataset}.log",
    wildcard_constraints:
        model=_one_of(EXPLAIN_MODELS),
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_saliency_mean.py"),
        variants=get_dataset_variants,
        grow=EXPLAIN["region_grow"],
    script:
        "../scripts/plot_saliency_mean.py"


rule plot_attention_forest:
    input:
        attention="results/tables/attention.tsv",
    output:
        figure=report(
            "results/figures/attention_forest/{dataset}.png",
            caption="../report/attention_forest.rst",
            category="Figures",
            subcategory="{dataset}",
            labels={"model": "all", "figure": "attention shift by region"},
        ),
    log:
        "logs/plot_attention_forest/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 1),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("plot_attention_forest.py"),
    script:
        "../scripts/plot_attention_forest.py"
