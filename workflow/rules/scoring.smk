# Scores: the seeded 1:1 protocol and 1:N rankings, each masked variant against the unmasked originals.


rule sample_pairs:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
    output:
        pairs="results/pairs/{dataset}.tsv",
    log:
        "logs/sample_pairs/{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 50),
        runtime=scaled(10, 5),
    params:
        seed=config["seed"],
        impostors_per_probe=config["protocol"]["impostors_per_probe"],
    script:
        "../scripts/sample_pairs.py"


rule score_verification:
    input:
        pairs="results/pairs/{dataset}.tsv",
        manifest="results/datasets/{dataset}/manifest.tsv",
        probes="results/embeddings/{model}/{dataset}/{variant}.npz",
        references="results/embeddings/{model}/{dataset}/none.npz",
    output:
        scores="results/scores/verification/{model}/{dataset}/{variant}.tsv",
    log:
        "logs/score_verification/{model}/{dataset}/{variant}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(4000, 20),
        runtime=scaled(15, 2),
    params:
        variant=get_variant,
    script:
        "../scripts/score_verification.py"


rule score_identification:
    input:
        manifest="results/datasets/{dataset}/manifest.tsv",
        probes="results/embeddings/{model}/{dataset}/{variant}.npz",
        gallery="results/embeddings/{model}/{dataset}/none.npz",
    output:
        scores="results/scores/identification/{model}/{dataset}/{variant}.tsv",
    log:
        "logs/score_identification/{model}/{dataset}/{variant}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(4000, 100),
        runtime=scaled(15, 2),
    params:
        variant=get_variant,
        rank_k=config["protocol"]["rank_k"],
    script:
        "../scripts/score_identification.py"
