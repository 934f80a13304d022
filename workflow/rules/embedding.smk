# Weights, then embedding caches per (model, dataset, variant). Each model runs in the conda env of
# its software family and declares its own resources; only GPU-capable models ask for a GPU. In
# end_to_end, locate_faces runs a detector once per stored image for all models that share it.
# prepare_faces decodes, aligns and resizes each stored image once per input geometry (maskaudit/prepare.py)
# for every model that takes it; embed_images then only normalises and runs the network.


rule fetch_weights:
    output:
        files="resources/weights/{model}.json",
    log:
        "logs/fetch_weights/{model}.log",
    wildcard_constraints:
        model=_one_of(EMBEDDING_MODELS),
    localrule: True
    conda:
        get_model_env
    threads: 1
    resources:
        mem_mb=scaled(1000, 0),
        runtime=scaled(60, 0),
    params:
        code=code_version("fetch_weights.py"),
        alignment=EMBEDDING["alignment"],
        overrides=get_model_overrides,
        weights_dir=config["weights_dir"],
        fetch_dir=lambda w, output: os.path.dirname(output.files),
        mirror=config["weights_mirror"],
        download=config["weights_download"],
    script:
        "../scripts/fetch_weights.py"


rule fetch_detector_weights:
    output:
        files="resources/weights/detector-{locator}.json",
    log:
        "logs/fetch_detector_weights/{locator}.log",
    wildcard_constraints:
        locator=_one_of(LOCATORS),
    localrule: True
    conda:
        "../envs/embed-torch.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 0),
        runtime=scaled(60, 0),
    params:
        code=code_version("fetch_detector_weights.py"),
        locator=get_locator_card,
        weights_dir=config["weights_dir"],
        fetch_dir=lambda w, output: os.path.dirname(output.files),
        mirror=config["weights_mirror"],
        download=config["weights_download"],
    script:
        "../scripts/fetch_detector_weights.py"


rule locate_faces:
    input:
        images=get_images_table,
        weights="resources/weights/detector-{locator}.json",
    output:
        located="results/located/{locator}/{dataset}/{variant}.npz",
    log:
        "logs/locate_faces/{locator}/{dataset}/{variant}.log",
    wildcard_constraints:
        locator=_one_of(LOCATORS),
    conda:
        "../envs/embed-torch.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 10),
        runtime=scaled(30, 60),
    params:
        code=code_version("locate_faces.py"),
        locator=get_locator_card,
        weights_dir=config["weights_dir"],
        fetch_dir=lambda w, input: os.path.dirname(input.weights),
    script:
        "../scripts/locate_faces.py"


rule prepare_faces:
    input:
        unpack(get_prep_located),
        images=get_images_table,
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:  # float32 faces: up to 0.6 MB each (224x224); deleted once every embedding job that reads them is done
        faces=temp("results/prepared/{prep}/{dataset}/{variant}.npy"),
        meta=temp("results/prepared/{prep}/{dataset}/{variant}.npz"),
    log:
        "logs/prepare_faces/{prep}/{dataset}/{variant}.log",
    wildcard_constraints:
        prep=_one_of(PREPS),
    conda:
        "../envs/embed-torch.yaml"
    threads: 4
    resources:
        mem_mb=scaled(2000, 10),
        runtime=scaled(30, 30),
    params:
        code=code_version("prepare_faces.py"),
        card=get_prep_card,
        alignment=EMBEDDING["alignment"],
        loader_workers=EMBEDDING["loader_workers"],
    script:
        "../scripts/prepare_faces.py"


rule embed_images:
    input:
        unpack(get_prepared),
        weights="resources/weights/{model}.json",
    output:
        cache="results/embeddings/{model}/{dataset}/{variant}.npz",
        sidecar="results/embeddings/{model}/{dataset}/{variant}.json",
    log:
        "logs/embed_images/{model}/{dataset}/{variant}.log",
    wildcard_constraints:
        model=_one_of(EMBEDDING_MODELS),
    conda:
        get_model_env
    threads: get_model_threads
    resources:
        gpu=get_model_gpu,
        gpu_mem_mb=get_model_gpu_mem_mb,
        mem_mb=get_model_mem_mb,
        runtime=get_model_runtime,
    params:
        code=code_version("embed_images.py"),
        alignment=EMBEDDING["alignment"],
        overrides=get_model_overrides,
        batch_size=EMBEDDING["batch_size"],
        device=EMBEDDING["device"],
        weights_dir=config["weights_dir"],
        fetch_dir=lambda w, input: os.path.dirname(input.weights),
    script:
        "../scripts/embed_images.py"
