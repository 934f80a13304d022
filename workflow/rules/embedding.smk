# Embedding caches per (model, dataset, variant). The only stage that may want a GPU.


rule embed_images:
    input:
        images=get_images_table,
        landmarks="results/faces/{dataset}/landmarks.npz",
    output:
        cache="results/embeddings/{model}/{dataset}/{variant}.npz",
        sidecar="results/embeddings/{model}/{dataset}/{variant}.json",
    log:
        "logs/embed_images/{model}/{dataset}/{variant}.log",
    conda:
        "../envs/embed-dlib.yaml"
    threads: get_embed_threads
    resources:
        gpu=get_model_gpu,
        mem_mb=get_embed_mem_mb,
        runtime=get_embed_runtime,
    params:
        weights_dir=config["weights_dir"],
    script:
        "../scripts/embed_images.py"
