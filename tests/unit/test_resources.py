"""Every rule declares what a job needs, so no cluster job runs on a site's defaults."""

import re

from conftest import REPO


def rule_blocks():
    for smk in sorted((REPO / "workflow/rules").glob("*.smk")):
        for block in re.split(r"^(?=rule \w+:)", smk.read_text(), flags=re.M):
            name = re.match(r"rule (\w+):", block)
            if name and re.search(r"^    (script|shell|run):", block, re.M):
                yield name.group(1), block


def test_every_job_rule_declares_threads_mem_and_runtime():
    rules = dict(rule_blocks())
    assert "embed_images" in rules and "download_sources" in rules
    for name, block in rules.items():
        assert re.search(r"^    threads: \S", block, re.M), f"rule {name} declares no threads"
        resources = re.search(r"^    resources:\n((?:        .*\n)+)", block, re.M)
        assert resources, f"rule {name} declares no resources"
        for key in ("mem_mb", "runtime"):
            assert re.search(rf"^        {key}=", resources.group(1), re.M), (
                f"rule {name} declares no {key}"
            )


def test_gpu_comes_only_from_the_model_card():
    for name, block in rule_blocks():
        gpu = re.search(r"^        gpu=(.*),$", block, re.M)
        if gpu:
            assert gpu.group(1) == "get_model_gpu", (
                f"rule {name} asks for a GPU outside the model card"
            )


def test_downloads_stay_on_the_submit_host():
    snakefile = (REPO / "Snakefile").read_text()
    local = re.search(r"^localrules:\n((?:    .*\n)+)", snakefile, re.M).group(1)
    assert "download_sources," in local
