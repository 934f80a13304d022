# Face detection and 68-point landmarks, once per original image.


rule detect_faces:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
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
        "logs/detect_faces/{dataset}.log",
    conda:
        "../envs/detect.yaml"
    threads: 1
    resources:
        mem_mb=scaled(3000, 10),
        runtime=scaled(30, 20),
    params:
        code=code_version("detect_faces.py"),
        detection=config["detection"],
        weights_dir=config["weights_dir"],
    script:
        "../scripts/detect_faces.py"
