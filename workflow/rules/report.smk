# Report: the findings page results/audit.html, built from one card per system and the tables.


rule render_system_card:
    input:
        rates="results/metrics/{model}/{dataset}/rates.tsv",
        mask_effects="results/metrics/{model}/{dataset}/mask_effects.tsv",
        thresholds="results/thresholds/{model}/{dataset}.json",
        sidecars=get_card_sidecars,
    output:
        card="results/report/cards/{model}.{dataset}.html",
        record="results/report/cards/{model}.{dataset}.json",
    log:
        "logs/render_system_card/{model}.{dataset}.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("render_system_card.py"),
        report=REPORT,
        system_measures=REPORT_SYSTEM_MEASURES,
    script:
        "../scripts/render_system_card.py"


rule render_audit_report:
    input:
        unpack(get_report_inputs),
    output:
        page=report(
            "results/audit.html",
            caption="../report/audit.rst",
            category="Findings",
            labels={"page": "audit.html: findings, verdicts, provenance"},
        ),
    log:
        "logs/render_audit_report.log",
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=scaled(2000, 2),
        runtime=scaled(10, 0.1),
    params:
        code=code_version("render_audit_report.py"),
        report=REPORT,
        alpha=config["stats"]["alpha"],
        datasets=DATASETS,
        tests=REPORT_TESTS_TABLE,
        provenance=report_provenance(),
    script:
        "../scripts/render_audit_report.py"
