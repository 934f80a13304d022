"""The eight deepface models whose weights no package ships, proven through deepface's real code path.

For each model a randomly initialised network of deepface's own architecture (tests/support/deepface_weights.py)
is saved under the exact file name deepface loads, in a temporary DEEPFACE_HOME. The workflow's
``fetch_weights`` and ``embed_images`` rules then run for all eight models on a tiny dataset: deepface
builds each network, loads the file and runs inference. Each cache must have the model's dimension,
identical inputs must give identical vectors, a rerun must do nothing, and a forced rerun must give
byte-identical vectors.
"""

import functools
import json
import os

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from deepface_weights import write_random_weights
from PIL import Image
from workflow_support import snakemake as run_snakemake

from maskaudit.embed import load_cache
from maskaudit.fetch import sha256_file
from maskaudit.models import REGISTRY
from maskaudit.models.files import required_files

pytestmark = pytest.mark.integration  # heavy: VGG-Face and DeepFace write ~1 GB of random weights
MODELS = ["vgg_face", "facenet", "facenet512", "openface", "deepface", "deepid", "arcface", "sface"]
EXPECTED_FILES = {  # deepface 0.0.103, PyTorch engine (SFace: ONNX on every engine)
    "vgg_face": "vgg_face_weights.pth",
    "facenet": "facenet_weights.pth",
    "facenet512": "facenet512_weights.pth",
    "openface": "openface_weights.pth",
    "deepface": "VGGFace2_DeepFace_weights_val-0.9034.pth",
    "deepid": "deepid_weights.pth",
    "arcface": "arcface_weights.pth",
    "sface": "face_recognition_sface_2021dec.onnx",
}


# model loads through deepface are bounded at 20 minutes
snakemake = functools.partial(run_snakemake, timeout=1200)

TORCH = [m for m in MODELS if REGISTRY[m].family == "torch"]
# every gradient method runs on a real architecture (gradcam is the default)
EXPLAIN_METHODS = {"facenet": "gradcampp", "openface": "smooth_gradcampp", "deepid": "smoothgrad"}


def targets():
    return [f"results/embeddings/{m}/tiny/none.npz" for m in MODELS] + [
        f"results/explanations/{m}/tiny/surgical-blue.npz" for m in TORCH
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory, hopper_rgb):
    work = tmp_path_factory.mktemp("deepface8")
    home = work / "deepface_home"
    weights = {}
    for m in MODELS:
        card = REGISTRY[m]
        name = required_files(card, "shared_landmarks")[0].name
        weights[m] = write_random_weights(card.deepface_name, home / ".deepface" / "weights" / name)
    images = work / "images"
    images.mkdir()
    Image.fromarray(hopper_rgb).save(images / "a.png")
    Image.fromarray(hopper_rgb).save(images / "a_copy.png")
    Image.fromarray(np.ascontiguousarray(hopper_rgb[:, ::-1])).save(images / "b.png")
    rows = [("a", "a.png", "p1"), ("a_copy", "a_copy.png", "p1"), ("b", "b.png", "p2")]
    pd.DataFrame(
        [
            {"image_id": i, "path": p, "identity": who, "gender": "female", "race": "White"}
            for i, p, who in rows
        ]
    ).to_csv(images / "manifest.tsv", sep="\t", index=False)
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg.update(
        models=MODELS,
        weights_download=False,
        datasets={"tiny": {"builder": "manifest", "manifest": str(images / "manifest.tsv")}},
    )
    cfg["masks"]["variants"] = {"surgical-blue": cfg["masks"]["variants"]["surgical-blue"]}
    cfg["embedding"]["alignment"] = "shared_landmarks"
    cfg["explain"].update(
        faces=2,
        smooth={"samples": 2, "sigma": 0.1},
        overrides={m: {"method": method} for m, method in EXPLAIN_METHODS.items()},
    )
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    env = {**os.environ, "DEEPFACE_HOME": str(home)}
    env.pop("DEEPFACE_BACKEND_ENGINE", None)
    env.pop("MASKAUDIT_USER_DEEPFACE_HOME", None)  # set by in-process model loads of other tests
    snakemake(work, *targets(), env=env)
    return work, env, weights


def test_expected_file_names_come_from_the_installed_deepface():
    for m in MODELS:
        assert [f.name for f in required_files(REGISTRY[m], "shared_landmarks")] == [
            EXPECTED_FILES[m]
        ]


@pytest.mark.parametrize("model", MODELS)
def test_model_runs_through_deepface(run, model):
    work, _, weights = run
    ids, vectors, status = load_cache(work / f"results/embeddings/{model}/tiny/none.npz")
    card = REGISTRY[model]
    assert ids == ["a", "a_copy", "b"] and status == ["ok"] * 3
    assert (
        vectors.shape == (3, card.dim) and np.isfinite(vectors).all() and np.abs(vectors).sum() > 0
    )
    assert np.array_equal(vectors[0], vectors[1])  # identical pixels, identical vector
    assert not np.array_equal(vectors[0], vectors[2])  # the mirrored face is another input
    side = json.loads((work / f"results/embeddings/{model}/tiny/none.json").read_text())
    assert (
        side["engine"] == "pytorch"
        and side["deepface_version"] == "0.0.103"
        and side["device"] in ("cpu", "cuda:0")
    )
    assert side["weights"] == {EXPECTED_FILES[model]: sha256_file(weights[model], cached=True)}
    from deepface.config.threshold import thresholds

    assert (
        side["threshold"] == thresholds[card.deepface_name]["cosine"]
        and side["alignment"] == "shared_landmarks"
    )


def test_rerun_does_nothing_and_forced_rerun_is_identical(run):
    work, env, _ = run
    assert "Nothing to be done" in snakemake(work, "--dry-run", *targets(), env=env).stdout
    cache = work / "results/embeddings/deepid/tiny/none.npz"
    before = load_cache(cache)[1]
    snakemake(
        work,
        "--forcerun",
        "embed_images",
        "--",
        str(cache.relative_to(work)),
        env=env,
        timeout=1200,
    )
    assert np.array_equal(load_cache(cache)[1], before)
    maps = work / "results/explanations/deepid/tiny/surgical-blue.npz"  # SmoothGrad: seeded noise
    from maskaudit.explain.run import load_explanations

    before = load_explanations(maps)["maps"]
    snakemake(
        work,
        "--forcerun",
        "explain_images",
        "--",
        str(maps.relative_to(work)),
        env=env,
        timeout=1200,
    )
    assert np.array_equal(load_explanations(maps)["maps"], before)


@pytest.mark.parametrize("model", TORCH)
def test_pytorch_model_explains_through_the_workflow(run, model):
    """The explain_images rule on deepface's network (client.model): a gradient map per masked photo on
    the model's input grid, moved back onto the photo, with region shares."""
    from maskaudit.explain.run import load_explanations

    work, _, _ = run
    e = load_explanations(work / f"results/explanations/{model}/tiny/surgical-blue.npz")
    card = REGISTRY[model]
    method = EXPLAIN_METHODS.get(model, "gradcam")
    assert e["meta"]["method"] == method and e["meta"]["settings"]["layer"] == card.saliency_layer
    assert e["image_id"].tolist() == ["a", "a_copy"] and e["status"].tolist() == ["ok", "ok"]
    w, h = card.input_size
    assert e["maps"].shape == (2, h, w) and np.isfinite(e["maps"]).all() and (e["maps"] >= 0).all()
    shares = e["shares"][0]
    # NaN only for a map with no positive mass
    assert np.isnan(shares).all() or np.isclose(shares.sum(), 1)
    assert np.isfinite(e["shares"]).all() or (e["maps"][0] == 0).all()
