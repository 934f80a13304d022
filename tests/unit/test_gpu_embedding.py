"""The fast embedding path (issue 20): deepface's preprocessing bit for bit, deepface's network without
its list round trip, loader workers that change nothing, and parity with ``DeepFace.represent``.

The two lightest PyTorch models (DeepID, OpenFace) run with random weights in deepface's own
architectures (tests/support/deepface_weights.py); benchmarks/bench_gpu.py checks all seven on a GPU.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from deepface_weights import write_random_weights
from package_faces import load_faces
from PIL import Image

from maskaudit.embed import embed_images
from maskaudit.models import get_card, load_model
from maskaudit.models.base import prepare_face
from maskaudit.models.files import provision, required_files

FETCH = str(REPO / "resources/weights")
LIGHT = ["deepid", "openface"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A DEEPFACE_HOME with random weights for the light models, and deepface's Haar cascades fetched."""
    home = tmp_path_factory.mktemp("deepface_home")
    for model_id in LIGHT:
        card = get_card(model_id)
        write_random_weights(
            card.deepface_name,
            home / ".deepface/weights" / required_files(card, "shared_landmarks")[0].name,
        )
    provision(get_card("dlib"), "end_to_end", fetch_dir=FETCH)
    return home


@pytest.fixture
def light(home, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(home))
    monkeypatch.delenv("MASKAUDIT_USER_DEEPFACE_HOME", raising=False)
    return lambda model_id, alignment="end_to_end": load_model(
        model_id, alignment, weights_dir=str(home / ".deepface/weights"), fetch_dir=FETCH
    )


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return load_faces(tmp_path_factory.mktemp("faces"))


@pytest.mark.parametrize(
    "normalization", ["base", "raw", "Facenet", "Facenet2018", "VGGFace", "VGGFace2", "ArcFace"]
)
def test_prepare_face_is_deepfaces_preprocessing_bit_for_bit(normalization):
    from deepface.modules.preprocessing import normalize_input, resize_image

    rng = np.random.default_rng(7)
    sizes = [(47, 55), (96, 96), (152, 152), (224, 224)]
    crops = [
        rng.integers(0, 256, shape).astype(np.float64) / 255
        for shape in [(55, 55, 3), (213, 180, 3), (61, 97, 3)]
    ]
    # a dark crop: deepface's "max > 1" test does not rescale it
    crops.append(np.full((40, 30, 3), 1 / 255))
    crops.append(rng.uniform(0, 3, (50, 50, 3)))  # values above 1: deepface divides by 255
    # a channel-flipped view, as extract gives
    crops.append(np.ascontiguousarray(crops[1][:, :, ::-1])[:, :, ::-1])
    for w, h in sizes:
        for crop in crops:
            theirs = normalize_input(resize_image(crop[:, :, ::-1], (h, w)), normalization)[0]
            ours = prepare_face(crop, (w, h), normalization)
            assert ours.dtype == theirs.dtype == np.float32 and ours.shape == (h, w, 3)
            assert np.array_equal(ours, theirs), (normalization, (w, h), crop.shape)


@pytest.mark.parametrize("model_id", LIGHT)
def test_network_output_equals_deepfaces_forward(light, model_id):
    m = light(model_id, "shared_landmarks")
    batch = (
        np.random.default_rng(1).uniform(0, 1, (5, *m.card.input_size[::-1], 3)).astype(np.float32)
    )
    theirs = np.asarray(m.client.forward(batch), dtype=np.float32)
    assert np.array_equal(m.represent_prepared(batch), theirs)


@pytest.mark.parametrize("model_id", LIGHT)
def test_end_to_end_matches_deepface_represent(light, model_id, faces):
    """Our end_to_end vectors (detector regions stored, then extracted and embedded in a batch) against
    ``DeepFace.represent`` on the whole image, deepface's defaults (opencv detector, align)."""
    from deepface import DeepFace

    from maskaudit.models.located import FaceLocator

    m = light(model_id)
    locator = FaceLocator(m.card.detector, m.card.align, staged=True)
    names = ["obama", "obama2", "biden"]
    crops = [m.acquire(faces[n], None, locator.locate(faces[n])).crop for n in names]
    ours = m.represent(crops)
    for name, vec in zip(names, ours):
        theirs = np.asarray(
            DeepFace.represent(faces[name][:, :, ::-1].copy(), model_name=m.card.deepface_name)[0][
                "embedding"
            ]
        )
        assert vec @ theirs / np.linalg.norm(vec) / np.linalg.norm(theirs) >= 0.99999, (
            model_id,
            name,
        )


def test_loader_workers_change_nothing(light, faces, tmp_path, alignment="end_to_end"):
    """Two worker processes decode, align and preprocess: vectors, statuses and face records are
    byte-identical to the single-process path, failures included (unreadable file, no face, a failed
    mask never opened). The workers run the same ``acquire_face`` in both alignment modes."""
    from maskaudit.models.located import FaceLocator

    m = light("deepid", alignment)
    names = ["obama", "obama2", "obama3", "biden"]
    for n in names:
        Image.fromarray(faces[n]).save(tmp_path / f"{n}.png")
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    ids = names + ["blank", "broken", "unmasked"]
    table = pd.DataFrame(
        {
            "image_id": ids,
            "path": [str(tmp_path / f"{i}.png") for i in ids],
            "status": ["ok"] * 6 + ["mask_render_failed"],
        }
    )
    locator = FaceLocator(m.card.detector, m.card.align, staged=True)
    located = {
        i: locator.locate(faces[i] if i in faces else np.full((200, 200, 3), 90, np.uint8))
        for i in ids[:5]
    }
    serial = embed_images(m, table, {}, batch_size=3, located=located)
    pooled = embed_images(m, table, {}, batch_size=3, located=located, workers=2)
    expected = ["ok"] * 4 + ["model_no_face", "unreadable", "mask_render_failed"]
    assert serial[1] == pooled[1] == expected
    assert np.array_equal(serial[0], pooled[0], equal_nan=True) and np.isfinite(serial[0][:4]).all()
    for key in serial[2]:
        assert np.array_equal(serial[2][key], pooled[2][key], equal_nan=key != "detail"), key
