"""The explanation stage end to end through Snakemake on the demo: the shared ``audit`` run (dlib,
three mask variants) and, in a copy of it, FaceNet through OpenCV (``facenet_cv``). The PyTorch
deepface models run the same rule with random weights in tests/workflow/test_deepface_models.py."""

import re
import shutil

import numpy as np
import pytest
import yaml
from workflow_support import VARIANTS, read, snakemake, write_config

from maskaudit.explain import REGIONS
from maskaudit.explain.run import load_explanations

pytestmark = pytest.mark.integration


def check_maps(workdir, model, variants, method):
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    faces = config["explain"]["faces"]
    ids = None
    for variant in variants:
        e = load_explanations(workdir / f"results/explanations/{model}/demo/{variant}.npz")
        assert e["meta"]["method"] == method and e["meta"]["sample_size"] == faces == len(
            e["image_id"]
        )
        assert (
            e["meta"]["settings"]["seed"] == config["explain"]["seed"]
            and e["meta"]["variant"] == variant
        )
        ids = e["image_id"].tolist() if ids is None else ids
        # the same photos under every variant: the shift is paired
        assert e["image_id"].tolist() == ids
        ok = e["status"] == "ok"
        assert ok.all(), dict(zip(e["image_id"], e["status"]))
        w, h = e["meta"]["pipeline"]["input_size"]
        assert e["maps"].shape == (faces, h, w) and np.isfinite(e["maps"]).all()
        assert np.allclose(e["shares"].sum(1), 1) and (e["shares"] >= 0).all()
        # the input grid lands on the face: the map's centre maps inside the landmarks' box
        centre = e["to_image"][:, :, :2] @ np.array([w / 2, h / 2]) + e["to_image"][:, :, 2]
        lo, hi = e["landmarks"].min(1), e["landmarks"].max(1)
        assert ((centre > lo) & (centre < hi)).all()
    return ids


def test_dlib_maps_region_shares_tables_and_figures(audit):
    check_maps(audit, "dlib", ["none", *VARIANTS], "occlusion")
    att = read(audit, "attention")
    overall = att[(att.model == "dlib") & (att.attribute == "overall")]
    assert sorted(overall.variant.unique()) == sorted(VARIANTS) and len(overall) == len(
        VARIANTS
    ) * len(REGIONS)
    for _, part in overall.groupby("variant"):
        assert np.isclose(part.share_unmasked.sum(), 1, atol=1e-5) and np.isclose(
            part.share_masked.sum(), 1, atol=1e-5
        )
        # 6 decimals
        assert np.allclose(part["shift"], part.share_masked - part.share_unmasked, atol=2e-6)
        assert (part.n_images == 3).all() and (part.n_failed == 0).all()
        assert ((part.shift_low <= part["shift"]) & (part["shift"] <= part.shift_high)).all()
    mouth = overall[overall.region == "mouth"].set_index("variant")
    assert (mouth["shift"] < 0).all()  # every mask hides the mouth: its share of the map falls
    assert {"gender", "race"} <= set(att.attribute)
    contrasts = read(audit, "attention_contrasts")
    assert list(contrasts.columns[:9]) == [
        "model",
        "dataset",
        "method",
        "variant",
        "attribute",
        "group_1",
        "group_2",
        "region",
        "measure",
    ]
    for figure in ["saliency_grid/demo", "saliency_mean/dlib.demo", "attention_forest/demo"]:
        assert (audit / f"results/figures/{figure}.png").stat().st_size > 10_000, figure
    named = [
        "table_attention",
        "figure_saliency_grid",
        "figure_saliency_mean",
        "figure_attention_forest",
    ]
    # named targets, all built
    assert "Nothing to be done" in snakemake(audit, "--dry-run", *named).stdout


def test_facenet_cv_maps_and_region_shares(audit, tmp_path):
    work = tmp_path / "audit"
    shutil.copytree(audit, work, symlinks=True)  # a copy: the shared run's outputs stay as they are
    write_config(work, lambda cfg: cfg.update(models=["dlib", "facenet_cv"]))
    targets = [f"results/explanations/facenet_cv/demo/{v}.npz" for v in ("none", "surgical-blue")]
    # (a flag ends the helper's --configfile list before the targets)
    out = (
        snakemake(work, "--keep-going", *targets).stdout
        + snakemake(work, "--dry-run", *targets).stdout
    )
    assert "Nothing to be done" in out
    ids = check_maps(work, "facenet_cv", ["none", "surgical-blue"], "occlusion")
    none, masked = (load_explanations(work / t) for t in targets)
    mouth = REGIONS.index("mouth")
    assert masked["shares"][:, mouth].mean() < none["shares"][:, mouth].mean(), ids
    log = (work / "logs/explain_images/facenet_cv/demo/surgical-blue.log").read_text()
    assert re.search(r"3 of 3 maps \(occlusion\)", log)
