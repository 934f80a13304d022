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

    def submit(self, inputs):
        """On CUDA: stack the faces into one of two pinned host buffers (used in turn, each reused only
        once the copy that last read it has finished), copy it to the device and run the network
        without waiting; the returned function waits for the vectors. Elsewhere: at once."""
        if not (_is_torch(self.client) and str(self.client.device).startswith("cuda")):
            return super().submit(inputs)
        import torch

        n = len(inputs)
        if not hasattr(self, "_slots"):
            self._slots, self._turn = [{"host": None, "done": None}, {"host": None, "done": None}], 0
        slot = self._slots[self._turn]
        self._turn ^= 1
        if slot["done"] is not None:
            slot["done"].synchronize()
        if slot["host"] is None or slot["host"].shape[0] < n:
            slot["host"] = torch.empty((n, *inputs[0].shape), dtype=torch.float32, pin_memory=True)
        np.stack(inputs, out=slot["host"][:n].numpy())
        with torch.no_grad():
            x = slot["host"][:n].to(self.client.device, non_blocking=True).permute(0, 3, 1, 2)
            y = self.client.model(x)
            out = torch.empty(y.shape, dtype=torch.float32, pin_memory=True)
            out.copy_(y, non_blocking=True)
        slot["done"] = done = torch.cuda.Event()
        done.record()

        def result() -> np.ndarray:
            done.synchronize()
            vectors = out.numpy().reshape(n, -1)
            if vectors.shape[1] != self.card.dim:
                raise RuntimeError(f"{self.card.id}: network returned {vectors.shape[1]}-d vectors, card says {self.card.dim}")
            return vectors

        return result

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
