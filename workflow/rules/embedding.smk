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
    resources:
        gpu=get_model_gpu,
    params:
        weights_dir=config["weights_dir"],
    script:
        "../scripts/embed_images.py"
