"""The model registry: every face-recognition system the audit can run, behind one interface.

A :class:`ModelCard` holds what the workflow needs without loading anything (distance metric,
operating threshold, resources); :func:`load_model` builds the runnable :class:`FaceModel`. New
systems (deepface models, commercial APIs) plug in by adding a card and a factory.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class ModelCard:
    id: str              # registry id, used in paths and config
    name: str            # the name its authors use
    dim: int             # embedding length
    metric: str          # distance between embeddings: "euclidean" or "cosine" (1 - cos)
    threshold: float     # the system's own operating threshold: same person iff distance <= threshold
    threshold_source: str
    factory: str         # "module:callable" returning a FaceModel
    batch_size: int = 32
    gpu: bool = False    # asks the scheduler for a GPU when True
    kind: str = "embedding"  # "embedding" or "comparison" (scores only, e.g. a vendor API; SEAMS item 2)


class FaceModel(Protocol):
    card: ModelCard

    def describe(self) -> dict:
        """Version, weights and preprocessing, recorded in every embedding cache's sidecar."""

    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings ``(len(images), card.dim)`` float32 for RGB images and their 68-point landmarks."""


REGISTRY: dict[str, ModelCard] = {
    card.id: card
    for card in [
        ModelCard(
            id="dlib", name="Dlib (dlib ResNet-29, 128-d)", dim=128, metric="euclidean", threshold=0.6,
            threshold_source="dlib's documented threshold for dlib_face_recognition_resnet_model_v1",
            factory="maskaudit.models.dlib_resnet:DlibResNet",
        ),
        # Comparison-only systems: commercial APIs (maskaudit/vendors). They return scores, not
        # embeddings; ``threshold`` is a similarity (higher = more alike), the vendor's default rule.
        ModelCard(
            id="rekognition", name="Amazon Rekognition (CompareFaces, Similarity 0-100)", dim=0,
            metric="similarity", threshold=80.0, kind="comparison", factory="maskaudit.vendors.rekognition:Rekognition",
            threshold_source="CompareFaces' default SimilarityThreshold (80); AWS advises 99 for high-stakes use",
        ),
        ModelCard(
            id="azure", name="Microsoft Azure AI Face (verify, recognition_04, confidence 0-1)", dim=0,
            metric="similarity", threshold=0.5, kind="comparison", factory="maskaudit.vendors.azure:Azure",
            threshold_source="verify's isIdentical rule: confidence >= 0.5",
        ),
        ModelCard(
            id="facepp", name="Face++ (compare, confidence 0-100)", dim=0, metric="similarity", threshold=71.8,
            kind="comparison", factory="maskaudit.vendors.facepp:FacePlusPlus",
            threshold_source="Face++ documents per-response thresholds; 71.8 is its documented sample at FMR 1e-4",
        ),
        ModelCard(
            id="facex", name="FaceX (match_faces, Euclidean distance)", dim=0, metric="similarity", threshold=-0.5,
            kind="comparison", factory="maskaudit.vendors.facex:FaceX",
            threshold_source="FaceX: match iff distance < 0.5, i.e. similarity -distance > -0.5 (a tie accepts here)",
        ),
    ]
}


def get_card(model_id: str) -> ModelCard:
    try:
        return REGISTRY[model_id]
    except KeyError:
        raise ValueError(f"unknown model '{model_id}'; registered models: {', '.join(sorted(REGISTRY))}") from None


def load_model(model_id: str, weights_dir: str | None = None) -> FaceModel:
    card = get_card(model_id)
    module, name = card.factory.split(":")
    return getattr(importlib.import_module(module), name)(card, weights_dir=weights_dir)
