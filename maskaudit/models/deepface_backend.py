"""The nine deepface recognition models, run through deepface's own loading and inference code.

deepface builds the network for the engine in use (PyTorch preferred, ``DEEPFACE_BACKEND_ENGINE``
wins when set; Dlib and SFace are engine-independent) and loads the resolved weight file from the
private ``DEEPFACE_HOME`` the base class staged. The batch goes through ``client.forward`` once.
"""

from __future__ import annotations

import numpy as np

from maskaudit.models.base import EmbeddingModel
from maskaudit.models.files import deepface_engine


class DeepfaceModel(EmbeddingModel):
    def _load(self) -> None:
        deepface_engine()
        from deepface.modules import modeling

        if hasattr(modeling, "cached_models"):  # never reuse a network loaded from another DEEPFACE_HOME
            del modeling.cached_models
        self.client = modeling.build_model(task="facial_recognition", model_name=self.card.deepface_name)
        self.device = _device_of(self.client)

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.client.forward(batch), dtype=np.float32).reshape(len(batch), -1)


def _device_of(client) -> str:
    """Where the network runs: torch's device, onnxruntime's provider, or dlib's CUDA flag."""
    if getattr(client, "device", None) is not None:
        return str(client.device)
    if hasattr(client.model, "get_providers"):
        providers = client.model.get_providers()
        return "cuda" if "CUDAExecutionProvider" in providers else "cpu"
    import dlib

    return "cuda" if getattr(dlib, "DLIB_USE_CUDA", False) else "cpu"
