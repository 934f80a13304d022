"""The nine deepface recognition models, run through deepface's own loading and inference code.

deepface builds the network for the engine in use (PyTorch preferred, ``DEEPFACE_BACKEND_ENGINE``
wins when set; Dlib and SFace are engine-independent) and loads the resolved weight file from the
private ``DEEPFACE_HOME`` the base class staged. The batch goes through the network once: for the
PyTorch engine, deepface's own module (``client.model``) on deepface's device, fed the tensor
``client.to_tensor`` would build (channels-first view of the NHWC batch) but copied from pinned
host memory without blocking, and read back as one array instead of deepface's nested lists
(``client.forward`` converts every vector with ``tolist``); the arithmetic is deepface's. Other
engines go through ``client.forward``.
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
        if _is_torch(self.client):
            return _torch_forward(self.client, batch)
        return np.asarray(self.client.forward(batch), dtype=np.float32).reshape(len(batch), -1)


def _is_torch(client) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(getattr(client, "model", None), torch.nn.Module)


def _torch_forward(client, batch: np.ndarray) -> np.ndarray:
    """``client.predict(batch)``: the same module, input and device, without the list round trip."""
    import torch

    host = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
    device = torch.device(client.device)
    with torch.no_grad():
        if device.type == "cuda":
            x = host.pin_memory().to(device, non_blocking=True).permute(0, 3, 1, 2)
        else:
            x = host.permute(0, 3, 1, 2)
        return client.model(x).cpu().numpy().reshape(len(batch), -1)


def _device_of(client) -> str:
    """Where the network runs: torch's device, onnxruntime's provider, or dlib's CUDA flag."""
    if getattr(client, "device", None) is not None:
        return str(client.device)
    if hasattr(client.model, "get_providers"):
        providers = client.model.get_providers()
        return "cuda" if "CUDAExecutionProvider" in providers else "cpu"
    import dlib

    return "cuda" if getattr(dlib, "DLIB_USE_CUDA", False) else "cpu"
