"""The model registry, the two real offline models, and parity with deepface itself."""

import dataclasses
import os

import numpy as np
import pytest
from conftest import REPO
from package_faces import load_faces

from maskaudit.models import ALIGNMENTS, REGISTRY, ModelCard, get_card, load_model, register
from maskaudit.models.files import provision

# the workflow's fetch folder (git-ignored); Haar cascades land here
FETCH = str(REPO / "resources/weights")

NINE = {
    "vgg_face": "VGG-Face",
    "facenet": "Facenet",
    "facenet512": "Facenet512",
    "openface": "OpenFace",
    "deepface": "DeepFace",
    "deepid": "DeepID",
    "arcface": "ArcFace",
    "dlib": "Dlib",
    "sface": "SFace",
}


@pytest.fixture(scope="module", autouse=True)
def haar_cascades():
    """deepface's 'opencv' detector needs two Haar cascades, extracted from an OpenCV 4 wheel (pip download)."""
    provision(get_card("dlib"), "end_to_end", fetch_dir=FETCH)


def model(model_id, alignment="shared_landmarks", **kw):
    return load_model(model_id, alignment, fetch_dir=FETCH, **kw)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return load_faces(tmp_path_factory.mktemp("faces"))


@pytest.fixture(scope="module")
def landmarks(faces, detector):
    return {n: detector.detect(img).landmarks for n, img in faces.items()}


def cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_unknown_model_lists_registered_ids():
    with pytest.raises(ValueError, match="registered models: .*dlib.*facenet_cv"):
        get_card("vgg-faec")


def test_the_nine_deepface_models_are_registered_with_deepfaces_defaults():
    from deepface.config.threshold import thresholds

    for model_id, name in NINE.items():
        card = get_card(model_id)
        assert card.deepface_name == name and card.kind == "embedding"
        assert (card.detector, card.align, card.normalization, card.metric) == (
            "opencv",
            True,
            "base",
            "cosine",
        )
        assert card.threshold == thresholds[name]["cosine"] and card.thresholds == thresholds[name]


def test_cards_are_consistent():
    for card in (c for c in REGISTRY.values() if c.kind == "embedding"):
        assert card.metric in ("euclidean", "cosine") and card.threshold > 0 and card.dim > 0
        assert card.kind in ("embedding", "comparison")
        assert os.path.isfile(f"workflow/envs/embed-{card.family}.yaml")
        # dlib, onnxruntime and OpenCV dnn run on the CPU here: never ask for a GPU
        if card.family != "torch":
            assert not card.gpu


def test_comparison_cards_are_registered_but_not_loadable():
    card = ModelCard(
        id="fake_api",
        name="Fake API",
        dim=0,
        metric="similarity",
        threshold=80.0,
        threshold_source="vendor default",
        factory="",
        kind="comparison",
        similarity_scale="0-100",
        raw_direction="higher_is_same",
    )
    register(card)
    try:
        assert get_card("fake_api").kind == "comparison"
        with pytest.raises(ValueError, match="comparison system"):
            load_model("fake_api")
        with pytest.raises(ValueError, match="kind must be"):
            register(dataclasses.replace(card, id="bad", kind="score"))
    finally:
        REGISTRY.pop("fake_api")


@pytest.mark.parametrize("model_id", ["dlib", "facenet_cv"])
@pytest.mark.parametrize("alignment", ALIGNMENTS)
def test_real_models_put_one_person_closer_than_two(model_id, alignment, faces, landmarks):
    m = model(model_id, alignment)
    names = ["obama", "obama2", "obama3", "biden"]
    vecs = m.embed([faces[n] for n in names], [landmarks[n] for n in names])
    assert vecs.shape == (4, m.card.dim) and np.isfinite(vecs).all()
    same = [cosine(vecs[i], vecs[j]) for i, j in [(0, 1), (0, 2), (1, 2)]]
    other = [cosine(vecs[i], vecs[3]) for i in range(3)]
    assert min(same) > max(other)
    # deterministic
    assert np.array_equal(m.embed([faces["obama"]], [landmarks["obama"]])[0], vecs[0])
    meta = m.describe()
    assert (
        meta["alignment"] == alignment
        and meta["device"] == "cpu"
        and all(len(h) == 64 for h in meta["weights"].values())
    )


@pytest.mark.parametrize("model_id", ["dlib", "facenet_cv"])
def test_end_to_end_charges_a_missed_face_to_the_model(model_id, faces):
    m = model(model_id, "end_to_end")
    blank = np.full((240, 240, 3), 128, np.uint8)
    missed, found = m.acquire(blank, None), m.acquire(faces["obama"], None)
    assert missed.status == "model_no_face" and missed.crop is None and "opencv" in missed.detail
    assert (
        found.status == "ok" and found.n_faces == 1 and found.confidence > 0 and found.box[2] > 50
    )


def test_dlib_matches_deepface_represent(faces, landmarks):
    """Same faces, same alignment: our vectors vs DeepFace.represent(model_name="Dlib")."""
    from deepface import DeepFace

    for alignment in ALIGNMENTS:
        m = model("dlib", alignment)
        for name in ["obama2", "biden"]:
            ours = m.embed([faces[name]], [landmarks[name]])[0]
            if alignment == "end_to_end":  # deepface's default pipeline on the whole image
                theirs = DeepFace.represent(faces[name][:, :, ::-1].copy(), model_name="Dlib")
            else:  # the same aligned chip, detection skipped
                chip = m.acquire(faces[name], landmarks[name]).crop
                theirs = DeepFace.represent(
                    (chip[:, :, ::-1] * 255).astype(np.uint8),
                    model_name="Dlib",
                    detector_backend="skip",
                )
            assert cosine(ours, np.asarray(theirs[0]["embedding"])) >= 0.99


def test_dlib_decisions_match_deepface_verify(faces):
    from deepface import DeepFace

    m = model("dlib", "end_to_end")
    names = ["obama", "obama2", "biden"]
    vecs = dict(zip(names, m.embed([faces[n] for n in names], [None] * len(names))))
    for i, a in enumerate(names):
        # one genuine, two impostor pairs (the benchmark checks every demo pair)
        for b in names[i + 1 :]:
            ours = 1 - cosine(vecs[a], vecs[b]) <= m.card.threshold
            theirs = DeepFace.verify(
                faces[a][:, :, ::-1].copy(), faces[b][:, :, ::-1].copy(), model_name="Dlib"
            )
            assert ours == theirs["verified"] and theirs["threshold"] == m.card.threshold


def test_empty_batch():
    assert model("dlib").represent([]).shape == (0, 128)


def test_missing_weights_name_the_file_the_folder_and_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.delenv("MASKAUDIT_USER_DEEPFACE_HOME", raising=False)
    from maskaudit.weights import WeightsNotFound

    with pytest.raises(WeightsNotFound) as err:
        load_model(
            "arcface",
            "shared_landmarks",
            weights_dir=str(tmp_path / "mine"),
            fetch_dir=str(tmp_path / "f"),
        )
    msg = str(err.value)
    assert "'arcface_weights.pth'" in msg and str(tmp_path / "mine" / "arcface_weights.pth") in msg
    assert "github.com/serengil/deepface_models" in msg and "weights_dir" in msg


def test_located_faces_equal_deepfaces_extract_faces(faces, tmp_path):
    """The detector's regions, stored once and extracted per model, give deepface's own faces exactly,
    with and without alignment and expansion, and several faces in one picture."""
    import cv2
    from deepface.modules import detection

    from maskaudit.models.located import FaceLocator, extract_located, load_located, save_located

    # two faces, eyes found in one
    pair = [cv2.resize(faces[n], (400, 480)) for n in ("obama", "obama2")]
    images = {
        **{n: faces[n] for n in ("obama", "biden")},
        "pair": np.hstack(pair),
        "blank": np.full((200, 200, 3), 128, np.uint8),
    }
    skip = detection.extract_faces(
        np.ascontiguousarray(faces["obama"][:, :, ::-1]),
        detector_backend="skip",
        color_face="rgb",
        normalize_face=True,
    )
    ours = extract_located(faces["obama"], None, detector="skip", align=True)
    assert len(ours) == len(skip) == 1 and np.array_equal(ours[0]["face"], skip[0]["face"])
    assert ours[0]["facial_area"] == {k: skip[0]["facial_area"][k] for k in "xywh"}
    assert ours[0]["confidence"] == skip[0]["confidence"]
    for align, expand in [(True, 0), (False, 0), (True, 20)]:
        locator = FaceLocator("opencv", align, fetch_dir=FETCH)
        located = {n: locator.locate(img) for n, img in images.items()}
        save_located(
            tmp_path / "l.npz", [*located, "skipped"], [*located.values(), None], locator.describe()
        )
        stored = load_located(tmp_path / "l.npz")
        assert set(stored) == set(images) and len(stored["blank"]) == 0 and len(stored["pair"]) >= 2
        for name, rgb in images.items():
            ours = extract_located(
                rgb, stored[name], detector="opencv", align=align, expand_percentage=expand
            )
            try:
                theirs = detection.extract_faces(
                    np.ascontiguousarray(rgb[:, :, ::-1]),
                    detector_backend="opencv",
                    align=align,
                    expand_percentage=expand,
                    color_face="rgb",
                    normalize_face=True,
                    enforce_detection=True,
                )
            except ValueError:  # deepface: no face
                theirs = []
            assert len(ours) == len(theirs), (name, align, expand)
            for a, b in zip(ours, theirs):
                assert np.array_equal(a["face"], b["face"]) and a["confidence"] == b["confidence"]
                assert a["facial_area"] == {k: b["facial_area"][k] for k in "xywh"}
