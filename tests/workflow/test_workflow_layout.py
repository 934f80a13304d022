"""The results layout is spelled on the workflow side (workflow/rules/common.smk), and the package
reads what the workflow hands it: scoring's named inputs follow the system's kind."""

import re

import pytest
from workflow_support import snakemake, write_config

pytestmark = pytest.mark.integration


def test_scoring_reads_embedding_caches_or_a_vendors_comparisons(tmp_path, monkeypatch):
    """An embedding model scores its variant's cache against the unmasked one; a comparison-only system
    (a vendor) its comparisons file and sidecar; both fix thresholds on the baseline `none`."""
    monkeypatch.setenv("FACE_APIKEY", "k")

    def edit(cfg):
        cfg["models"] = ["dlib", "azure"]
        cfg["vendors"]["azure"]["endpoint"] = "https://x.example"

    write_config(tmp_path, edit)
    targets = [f"results/scores/{m}/demo/surgical-blue/verification.tsv" for m in ("dlib", "azure")]
    out = snakemake(tmp_path, "--dry-run", *targets).stdout
    inputs = {}
    for block in re.split(r"\n(?:local)?rule ", out)[1:]:
        rule = block.split(":", 1)[0]
        wc = re.search(r"wildcards: (.*)", block)
        if rule in ("score_comparisons", "fix_thresholds"):
            wildcards = dict(kv.split("=", 1) for kv in wc.group(1).split(", "))
            inputs[rule, wildcards["model"]] = re.search(r"input: (.*)", block).group(1).split(", ")
    assert inputs["score_comparisons", "dlib"][:2] == [
        "results/embeddings/dlib/demo/surgical-blue.npz",
        "results/embeddings/dlib/demo/none.npz",
    ]
    assert inputs["score_comparisons", "azure"][:2] == [
        "results/comparisons/azure/demo/surgical-blue.npz",
        "results/comparisons/azure/demo/surgical-blue.json",
    ]
    assert inputs["fix_thresholds", "dlib"][:2] == ["results/embeddings/dlib/demo/none.npz"] * 2
    assert inputs["fix_thresholds", "azure"][:2] == [
        "results/comparisons/azure/demo/none.npz",
        "results/comparisons/azure/demo/none.json",
    ]
