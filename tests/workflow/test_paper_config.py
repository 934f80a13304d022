"""config/paper.yaml: the study's systems, end_to_end alignment, and a full DAG without running anything."""

import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

from maskaudit.models import get_card


def test_paper_config_lists_the_nine_deepface_models_end_to_end():
    cfg = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    cards = [get_card(m) for m in cfg["models"]]
    assert [c.deepface_name for c in cards if c.kind == "embedding"] == [
        "VGG-Face",
        "Facenet",
        "Facenet512",
        "OpenFace",
        "DeepFace",
        "DeepID",
        "ArcFace",
        "Dlib",
        "SFace",
    ]
    assert [c.id for c in cards if c.kind == "comparison"] == [
        "rekognition",
        "azure",
        "facepp",
        "facex",
    ]
    assert cfg["embedding"]["alignment"] == "end_to_end"


def test_paper_dag_builds_without_running(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(tmp_path),
            "--configfile",
            str(REPO / "config/paper.yaml"),
            "--cores",
            "2",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "FACE", "FACEPP_", "FACEX_"))
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, re.M))
    # from raw archives: 5 datasets; 9 models x 5 datasets x (none + 9 masks); vendors skipped without credentials
    assert (
        jobs["download_archive"] and jobs["locate_manual_archive"] and "compare_vendor" not in jobs
    )
    assert jobs["fetch_weights"] == "9" and jobs["embed_images"] == "450"
    assert "skipping vendor 'rekognition'" in proc.stderr
    assert not list(tmp_path.glob("results/*"))


def test_embedding_keys_are_validated_with_the_fix_named():
    from maskaudit.config import ConfigError, load_schema, validate_config

    schema = load_schema(REPO / "workflow/schemas/config.schema.yaml")
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    filled = validate_config(cfg, schema)
    assert filled["weights_download"] is True and filled["embedding"]["overrides"] == {}
    cfg["embedding"] = {"alignment": "sideways", "overrides": {"dlib": {"detector": "haar"}}}
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, schema)
    msg = str(err.value)
    assert "config key 'embedding.alignment'" in msg and "end_to_end" in msg
    assert (
        "config key 'embedding.overrides.dlib.detector'" in msg
        and "deepface detector backend" in msg
    )
