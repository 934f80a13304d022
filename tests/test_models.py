"""The model registry and the real dlib ResNet embedder."""

import numpy as np
import pytest

from maskaudit.models import REGISTRY, get_card, load_model


def test_unknown_model_lists_registered_ids():
    with pytest.raises(ValueError, match="registered models: .*dlib"):
        get_card("vgg-faec")


def test_cards_are_consistent():
    for card in (c for c in REGISTRY.values() if c.kind == "embedding"):
        assert card.metric in ("euclidean", "cosine") and card.threshold > 0 and card.dim > 0


def test_dlib_embeddings_are_real_and_deterministic(dlib_model, detector, hopper_rgb):
    lm = detector.detect(hopper_rgb).landmarks
    flipped = np.ascontiguousarray(hopper_rgb[:, ::-1])
    lm_flipped = detector.detect(flipped).landmarks
    noise = np.random.default_rng(1).integers(0, 255, hopper_rgb.shape, dtype=np.uint8)
    vecs = dlib_model.embed([hopper_rgb, hopper_rgb, flipped, noise], [lm, lm, lm_flipped, lm])
    assert vecs.shape == (4, 128) and vecs.dtype == np.float32
    assert np.array_equal(vecs[0], vecs[1])
    same = np.linalg.norm(vecs[0] - vecs[2])  # mirror image of the same face
    other = np.linalg.norm(vecs[0] - vecs[3])  # noise where the face was
    assert same < dlib_model.card.threshold < other
    meta = dlib_model.describe()
    assert len(meta["weights_sha256"]) == 64 and "150x150" in meta["preprocessing"]


def test_empty_batch(dlib_model):
    assert dlib_model.embed([], []).shape == (0, 128)


def test_load_model_with_missing_weights_dir_falls_back_to_package(tmp_path):
    model = load_model("dlib", weights_dir=str(tmp_path))  # empty folder: packaged weights are used
    assert model.weights.name == "dlib_face_recognition_resnet_model_v1.dat"
