"""The fakes' face "engine": dlib HOG detection + dlib ResNet embedding of the bytes a fake receives."""

from __future__ import annotations

import hashlib
import io
import threading

import numpy as np
from PIL import Image


class FaceOracle:
    """``embedding(data)`` -> 128-d vector, or ``None`` when no single face is found. Cached by SHA-256."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray | None] = {}
        self._detector = self._model = None

    def _load(self):
        from maskaudit.detect import FaceDetector
        from maskaudit.models import load_model

        if self._detector is None:
            self._detector = FaceDetector(upsample=1, max_side=800)
            self._model = load_model("dlib")

    def embedding(self, data: bytes) -> np.ndarray | None:
        key = hashlib.sha256(data).hexdigest()
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            self._load()
            try:
                rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            except Exception:
                self._cache[key] = None
                return None
            det = self._detector.detect(rgb)
            vec = self._model.embed([rgb], [det.landmarks])[0] if det.status == "ok" else None
            self._cache[key] = vec
            return vec

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b))

    @staticmethod
    def likeness(distance: float) -> float:
        """A similarity in [0, 1] from a dlib distance (0.6 -> 0.5), as a vendor might calibrate it."""
        return float(1.0 / (1.0 + np.exp((distance - 0.6) * 12.0)))


ORACLE = FaceOracle()
