# Face detection and 68-point landmarks, once per original image. Detection is the one expensive
# step that runs per original image before anything can fan out, so it is split into
# `detection.shards` contiguous shards (jobs on separate cores or nodes), merged in manifest order.


rule detect_faces:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
    output:
        landmarks="results/faces/{dataset}/shards/{shard}-of-{shards}.npz",
        acquisition="results/faces/{dataset}/shards/{shard}-of-{shards}.tsv",
    log:
        "logs/detect_faces/{dataset}/{shard}-of-{shards}.log",
    wildcard_constraints:
        shard=r"\d+",
        shards=r"\d+",
    conda:
        "../envs/detect.yaml"
    threads: 1
    resources:
        mem_mb=scaled(3000, 10),
        runtime=scaled(30, 20, per="shards"),
    params:
        code=code_version("detect_faces.py"),
        detection=DETECTOR,
        weights_dir=config["weights_dir"],
    script:
        "../scripts/detect_faces.py"


rule merge_faces:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        landmarks=detection_shards("npz"),
        acquisition=detection_shards("tsv"),
    output:
        landmarks="results/faces/{dataset}/landmarks.npz",
        acquisition=report(
            "results/faces/{dataset}/acquisition.tsv",
            caption="../report/acquisition.rst",
            category="Data",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "table": "acquisition"},
        ),
    log:
        "logs/merge_faces/{dataset}.log",
    conda:
        "../envs/detect.yaml"
    threads: 1
    resources:
        mem_mb=scaled(1000, 10),
        runtime=scaled(5, 1),
    params:
        code=code_version("merge_faces.py"),
    script:
        "../scripts/merge_faces.py"
