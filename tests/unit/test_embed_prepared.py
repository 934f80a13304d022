"""The shared preparation stage (issue 20): faces decoded, aligned and resized once per input geometry
(``prepare_faces``), then embedded by streaming the stored arrays (``embed_prepared``). The vectors,
statuses and face records equal the per-job path's (``embed_images``) byte for byte, failures included.

DeepID runs with random weights in deepface's own architecture (tests/support/deepface_weights.py).
"""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from deepface_weights import write_random_weights
from package_faces import load_faces
from PIL import Image

from maskaudit.embed import embed_images, embed_prepared
from maskaudit.models import get_card, load_model
from maskaudit.models.base import normalize_batch, prepare_face, resize_face
from maskaudit.models.files import provision, required_files
from maskaudit.prepare import PrepCard, check_prepared, load_prepared, prep_id, write_prepared

FETCH = str(REPO / "resources/weights")
NORMALIZATIONS = ["base", "raw", "Facenet", "Facenet2018", "VGGFace", "VGGFace2", "ArcFace"]


@pytest.fixture(scope="module")
def deepid(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("deepface_home")
    card = get_card("deepid")
    write_random_weights(
        card.deepface_name,
        home / ".deepface/weights" / required_files(card, "shared_landmarks")[0].name,
    )
    provision(get_card("dlib"), "end_to_end", fetch_dir=FETCH)
    old = os.environ.get("DEEPFACE_HOME")
    os.environ["DEEPFACE_HOME"] = str(home)
    yield load_model(
        "deepid", "end_to_end", weights_dir=str(home / ".deepface/weights"), fetch_dir=FETCH
    )
    if old is None:
        os.environ.pop("DEEPFACE_HOME", None)
    else:
        os.environ["DEEPFACE_HOME"] = old


@pytest.fixture(scope="module")
def stored(tmp_path_factory, deepid):
    """Seven manifest rows: four faces, a blank image (no face), a broken file, a failed mask."""
    from maskaudit.models.located import FaceLocator

    tmp = tmp_path_factory.mktemp("stored")
    faces = load_faces(tmp_path_factory.mktemp("faces"))
    names = ["obama", "obama2", "obama3", "biden"]
    images = {n: faces[n] for n in names} | {"blank": np.full((200, 200, 3), 90, np.uint8)}
    for n, img in images.items():
        Image.fromarray(img).save(tmp / f"{n}.png")
    (tmp / "broken.png").write_bytes(b"not an image")
    ids = names + ["blank", "broken", "unmasked"]
    table = pd.DataFrame(
        {
            "image_id": ids,
            "path": [str(tmp / f"{i}.png") for i in ids],
            "status": ["ok"] * 6 + ["mask_render_failed"],
        }
    )
    locator = FaceLocator(deepid.card.detector, deepid.card.align, staged=True)
    return table, {i: locator.locate(images[i]) for i in ids[:5]}


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_resize_then_normalize_batch_is_prepare_face_bit_for_bit(normalization):
    rng = np.random.default_rng(11)
    crops = [
        rng.integers(0, 256, s).astype(np.float64) / 255
        for s in [(55, 55, 3), (213, 180, 3), (61, 97, 3)]
    ]
    crops.append(rng.uniform(0, 3, (50, 50, 3)))  # above 1: deepface divides by 255
    for size in [(47, 55), (160, 160)]:
        batch = np.stack([resize_face(c, size) for c in crops])
        expected = np.stack([prepare_face(c, size, normalization) for c in crops])
        assert np.array_equal(normalize_batch(batch, normalization), expected), (
            normalization,
            size,
        )


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_normalize_on_device_matches_deepface(normalization):
    """The CUDA path's vectorised normalisation (here on torch's CPU): the elementwise ones bit for
    bit, ``Facenet`` (per-face mean and std, reductions in another order) to float32 rounding."""
    import torch

    from maskaudit.models.deepface_backend import normalize_on_device

    rng = np.random.default_rng(3)
    batch = rng.uniform(0, 1, (4, 55, 47, 3)).astype(np.float32)
    batch[1] = 0.5  # a flat face: Facenet's std floor
    expected = normalize_batch(batch.copy(), normalization)
    ours = normalize_on_device(torch.from_numpy(batch.copy()), normalization).numpy()
    if normalization == "Facenet":
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-4)
        assert not np.array_equal(ours, batch)
    else:
        assert np.array_equal(ours, expected), normalization


def test_prep_id_is_shared_by_models_with_the_same_faces_and_only_by_them():
    ids = {
        m: prep_id(get_card(m), "shared_landmarks")
        for m in ["facenet", "facenet512", "facenet_cv", "arcface", "sface", "deepid", "dlib"]
    }
    assert ids["facenet"] == ids["facenet512"] == ids["facenet_cv"] == "landmarks-pad0.25-160x160"
    assert ids["arcface"] == ids["sface"] != ids["deepid"] != ids["dlib"]
    assert prep_id(get_card("deepid"), "end_to_end") == "opencv-expand0-47x55"
    assert (
        prep_id(get_card("deepid", {"align": False, "expand_percentage": 10}), "end_to_end")
        == "opencv-unaligned-expand10-47x55"
    )
    assert prep_id(get_card("deepid", {"chip_padding": 0.3}), "shared_landmarks") != ids["deepid"]


@pytest.mark.parametrize("workers", [0, 2])
def test_prepared_path_equals_the_per_job_path(deepid, stored, tmp_path, workers):
    """Prepared once into a memory-mapped ``.npy`` (in this process or two workers), embedded in
    batches that do not divide the faces, read ahead by one or several threads: vectors, statuses
    and face records byte-identical to
    ``embed_images``, which decodes, aligns and preprocesses inside the job."""
    table, located = stored
    card = PrepCard.of(deepid.card)
    write_prepared(
        tmp_path / "f.npy",
        tmp_path / "m.npz",
        card,
        "end_to_end",
        table,
        {},
        located,
        workers=workers,
    )
    faces, meta = load_prepared(tmp_path / "f.npy", tmp_path / "m.npz")
    assert (
        isinstance(faces, np.memmap) and faces.shape == (6, 55, 47, 3) and not faces.flags.writeable
    )
    assert list(meta["slot"]) == [0, 1, 2, 3, -1, -1, -1]
    check_prepared(meta, deepid.card, "end_to_end", table.image_id)
    for batch_size, ahead, readers in [
        (3, 2, 1),
        (1, 1, 1),
        (1, 3, 3),
        (64, 2, 2),
    ]:  # same batches: same rounding
        serial = embed_images(deepid, table, {}, batch_size=batch_size, located=located)
        prepared = embed_prepared(deepid, faces, meta, batch_size, ahead=ahead, readers=readers)
        expected = ["ok"] * 4 + ["model_no_face", "unreadable", "mask_render_failed"]
        assert serial[1] == prepared[1] == expected
        assert (
            np.array_equal(serial[0], prepared[0], equal_nan=True)
            and np.isfinite(serial[0][:4]).all()
        )
        for key in serial[2]:
            assert np.array_equal(serial[2][key], prepared[2][key], equal_nan=key != "detail"), key


def test_prepared_faces_are_refused_for_another_geometry_or_manifest(deepid, stored, tmp_path):
    table, located = stored
    write_prepared(
        tmp_path / "f.npy",
        tmp_path / "m.npz",
        PrepCard.of(deepid.card),
        "end_to_end",
        table,
        {},
        located,
    )
    _, meta = load_prepared(tmp_path / "f.npy", tmp_path / "m.npz")
    with pytest.raises(ValueError, match="needs opencv-expand0-96x96"):
        check_prepared(meta, get_card("openface"), "end_to_end")
    with pytest.raises(ValueError, match="needs landmarks-pad0.25-47x55"):
        check_prepared(meta, deepid.card, "shared_landmarks")
    with pytest.raises(ValueError, match="another manifest"):
        check_prepared(meta, deepid.card, "end_to_end", list(table.image_id)[::-1])
    with pytest.raises(ValueError, match="stored regions"):
        write_prepared(
            tmp_path / "g.npy",
            tmp_path / "n.npz",
            PrepCard.of(deepid.card),
            "end_to_end",
            table,
            {},
            None,
        )
