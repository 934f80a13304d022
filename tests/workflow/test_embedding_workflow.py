"""The demo through each model's own face pipeline: Dlib and FaceNet in both alignment modes.

One end_to_end run (one mask variant) with a third model whose weights are absent: only that model's
jobs stop, with a message naming the file. Then the 1:1 decisions are checked against DeepFace.verify,
and switching to shared_landmarks plans only the embeddings and what depends on them (the embeddings
are recomputed; the scoring of them is covered by tests/workflow/test_workflow.py).
"""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from workflow_support import seed_downloads, snakemake

from maskaudit.models import get_card
from maskaudit.models.files import provision

pytestmark = pytest.mark.integration
MODELS = ["dlib", "facenet_cv"]


def write_config(workdir, alignment, models):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["datasets"]["demo"]["sources"] = str(REPO / "config/datasets/demo.yaml")
    cfg["masks"]["variants"] = {"surgical-blue": cfg["masks"]["variants"]["surgical-blue"]}
    cfg.update(models=models, weights_download=False)
    cfg["embedding"]["alignment"] = alignment
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def scores(models):
    return [
        f"results/scores/{m}/demo/{v}/verification.tsv"
        for m in models
        for v in ["none", "surgical-blue"]
    ]


def read_scores(work, model, variant, comparison):
    return pd.read_csv(
        work / f"results/scores/{model}/demo/{variant}/{comparison}.tsv",
        sep="\t",
        keep_default_na=False,
        na_values=["NaN"],
    )


def planned(workdir, *targets):
    out = snakemake(workdir, "--dry-run", *targets).stdout
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M)
        if m.group(1) != "total"
    }


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    seed_downloads(work)
    # Haar cascades for deepface's 'opencv' detector (from an OpenCV 4 wheel); then downloads are off.
    provision(get_card("dlib"), "end_to_end", fetch_dir=str(REPO / "resources/weights"))
    (work / "resources/weights").mkdir(parents=True)
    for f in (REPO / "resources/weights").glob("haarcascade_*.xml"):
        shutil.copy(f, work / "resources/weights" / f.name)
    write_config(work, "end_to_end", MODELS + ["arcface"])
    # 1:1 scores only: faster
    first = snakemake(work, "--keep-going", *scores(MODELS + ["arcface"]), check=False)
    return work, first


def test_a_model_without_weights_stops_only_its_own_jobs(audit):
    work, first = audit
    assert first.returncode != 0
    log = (work / "logs/fetch_weights/arcface.log").read_text()
    assert (
        "'arcface_weights.pth'" in log
        and "resources/weights/arcface_weights.pth" in log
        and "github.com" in log
    )
    assert not (work / "results/embeddings/arcface").exists()
    for m in MODELS:  # the other models ran to their scores
        for v in ["none", "surgical-blue"]:
            assert (work / f"results/scores/{m}/demo/{v}/verification.tsv").is_file()
    write_config(work, "end_to_end", MODELS)
    # finished work is kept
    assert "Nothing to be done" in snakemake(work, "--dry-run", *scores(MODELS)).stdout


def test_end_to_end_charges_missed_faces_to_the_model(audit):
    work, _ = audit
    # deepface's detector ran once per stored image for both models (locate_faces), not once per model
    assert sorted(p.name for p in (work / "logs/locate_faces/opencv/demo").iterdir()) == [
        "none.log",
        "surgical-blue.log",
    ]
    for m in MODELS:
        side = json.loads((work / f"results/embeddings/{m}/demo/surgical-blue.json").read_text())
        assert side["alignment"] == "end_to_end" and side["pipeline"]["detector"] == "opencv"
        assert side["failures"].get("model_no_face", 0) > 0  # Haar misses masked faces
        scores = read_scores(work, m, "surgical-blue", "reidentification")
        missed = scores[scores.fta_reason == "model_no_face"]
        assert (
            len(missed)
            and (missed.fta_origin == "model").all()
            and (missed.decision == "fta").all()
        )
        assert (scores.model_alignment == "end_to_end").all() and (
            scores.deepface_version == "0.0.103"
        ).all()
        assert (scores.model_engine == ("opencv-dnn" if m == "facenet_cv" else "pytorch")).all()
    for m in MODELS:
        fta = {
            v: (read_scores(work, m, v, "reidentification").fta_reason.fillna("") != "").mean()
            for v in ["none", "surgical-blue"]
        }
        assert fta["surgical-blue"] > fta["none"]


def test_decisions_match_deepface_verify(audit):
    """A seeded sample of the demo's 1:1 pairs, masked and unmasked, through DeepFace.verify itself."""
    from deepface import DeepFace

    from maskaudit.models import load_model

    work, _ = audit
    # stages DEEPFACE_HOME
    load_model("dlib", "end_to_end", fetch_dir=str(work / "resources/weights"))
    for variant in ["none", "surgical-blue"]:
        scores = pd.concat(
            [read_scores(work, "dlib", variant, c) for c in ("reidentification", "verification")]
        )
        probes = pd.read_csv(
            work / f"results/masked/demo/{variant}/manifest.tsv", sep="\t"
        ).set_index("image_id")
        refs = pd.read_csv(work / "results/masked/demo/none/manifest.tsv", sep="\t").set_index(
            "image_id"
        )
        for row in (
            scores[scores.comparison != "near_duplicate"].sample(4, random_state=1).itertuples()
        ):
            a = work / f"results/masked/demo/{variant}" / probes.loc[row.probe_id, "path"]
            b = work / "results/masked/demo/none" / refs.loc[row.ref_id, "path"]
            try:
                theirs = (
                    "match"
                    if DeepFace.verify(str(a), str(b), model_name="Dlib")["verified"]
                    else "non_match"
                )
            except ValueError:  # deepface raises when a side has no face: our failure to acquire
                theirs = "fta"
            assert row.decision == theirs, (variant, row.probe_id, row.ref_id, row.raw_score)


def test_switching_alignment_reruns_only_embeddings_and_dependents(audit):
    work, _ = audit
    write_config(work, "shared_landmarks", MODELS)
    jobs = planned(work, *scores(MODELS))
    assert (
        jobs["embed_images"] == 4 and jobs["fetch_weights"] == 2 and jobs["score_comparisons"] == 4
    )
    assert not {"detect_faces", "mask_images", "build_protocol", "build_demo_dataset"} & set(jobs)
    caches = [
        f"results/embeddings/{m}/demo/{v}.npz" for m in MODELS for v in ["none", "surgical-blue"]
    ]
    # the embeddings only: scoring them is what the rest of the suite checks
    snakemake(work, *caches)
    for m in MODELS:
        side = json.loads((work / f"results/embeddings/{m}/demo/surgical-blue.json").read_text())
        assert side["alignment"] == "shared_landmarks" and "model_no_face" not in side["failures"]
        vecs = np.load(work / f"results/embeddings/{m}/demo/surgical-blue.npz")["vectors"]
        # hanks_1: mask out of frame
        assert np.isfinite(vecs).all(axis=1).sum() == side["n_embedded"] == 14
    assert "Nothing to be done" in snakemake(work, "--dry-run", *caches).stdout
