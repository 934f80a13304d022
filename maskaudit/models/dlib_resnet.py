"""dlib's ResNet-29 face descriptor (the model deepface calls ``Dlib``), run directly through dlib."""

from __future__ import annotations

from typing import Sequence

import dlib
import numpy as np

from maskaudit.detect import face_chip
from maskaudit.weights import find_weights, weights_sha256

WEIGHTS_FILE = "dlib_face_recognition_resnet_model_v1.dat"
CHIP_SIZE, CHIP_PADDING = 150, 0.25


class DlibResNet:
    def __init__(self, card, weights_dir: str | None = None):
        self.card = card
        self.weights = find_weights(WEIGHTS_FILE, weights_dir)
        self._net = dlib.face_recognition_model_v1(str(self.weights))

    def describe(self) -> dict:
        return {
            "model": self.card.id, "name": self.card.name, "dlib": dlib.__version__,
            "weights": WEIGHTS_FILE, "weights_sha256": weights_sha256(str(self.weights)),
            "preprocessing": f"dlib.get_face_chip from the original image's 68 landmarks, {CHIP_SIZE}x{CHIP_SIZE}, "
                             f"padding {CHIP_PADDING}, RGB uint8, no jitter",
            "metric": self.card.metric, "threshold": self.card.threshold,
        }

    def embed(self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.card.dim), np.float32)
        chips = [face_chip(img, lm, CHIP_SIZE, CHIP_PADDING) for img, lm in zip(images, landmarks)]
        vectors = self._net.compute_face_descriptor(chips)  # one batched forward pass
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)
