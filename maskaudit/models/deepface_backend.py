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

        # never reuse a network loaded from another DEEPFACE_HOME
        if hasattr(modeling, "cached_models"):
            del modeling.cached_models
        self.client = modeling.build_model(
            task="facial_recognition", model_name=self.card.deepface_name
        )
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
            self._slots, self._turn = (
                [{"host": None, "done": None}, {"host": None, "done": None}],
                0,
            )
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
                raise RuntimeError(
                    f"{self.card.id}: network returned {vectors.shape[1]}-d vectors, card says {self.card.dim}"
                )
            return vectors

        return result

    def _on_cuda(self) -> bool:
        return _is_torch(self.client) and str(self.client.device).startswith("cuda")

    def host_buffer(self, n: int) -> np.ndarray:
        """On CUDA a page-locked buffer (a view of a pinned tensor, remembered so that
        :meth:`submit_resized` copies from it without blocking); elsewhere a plain array."""
        if not self._on_cuda():
            return super().host_buffer(n)
        import torch

        w, h = self.card.input_size
        tensor = torch.empty((n, h, w, 3), dtype=torch.float32, pin_memory=True)
        array = tensor.numpy()
        self.__dict__.setdefault("_pinned", {})[array.__array_interface__["data"][0]] = tensor
        return array

    def submit_resized(self, batch: np.ndarray):
        """On CUDA: the batch (a :meth:`host_buffer` or a prefix of one) is copied to the device
        without blocking, normalised there (:func:`normalize_on_device`, one vectorised pass) and run
        through the network; the returned function waits for the vectors. The caller must not refill
        the buffer before that function has returned. Elsewhere: exact CPU normalisation (base class)."""
        if not self._on_cuda():
            return super().submit_resized(batch)
        import torch

        n = len(batch)
        tensor = self.__dict__.get("_pinned", {}).get(batch.__array_interface__["data"][0])
        host = (
            tensor[:n]
            if tensor is not None
            else torch.from_numpy(np.ascontiguousarray(batch)).pin_memory()
        )
        with torch.no_grad():
            x = host.to(self.client.device, non_blocking=True)
            x = normalize_on_device(x, self.card.normalization).permute(0, 3, 1, 2)
            y = self.client.model(x)
            out = torch.empty(y.shape, dtype=torch.float32, pin_memory=True)
            out.copy_(y, non_blocking=True)
        done = torch.cuda.Event()
        done.record()

        def result() -> np.ndarray:
            done.synchronize()
            vectors = out.numpy().reshape(n, -1)
            if vectors.shape[1] != self.card.dim:
                raise RuntimeError(
                    f"{self.card.id}: network returned {vectors.shape[1]}-d vectors, card says {self.card.dim}"
                )
            return vectors

        return result

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        if _is_torch(self.client):
            return _torch_forward(self.client, batch)
        return np.asarray(self.client.forward(batch), dtype=np.float32).reshape(len(batch), -1)


def normalize_on_device(x, normalization: str):
    """deepface's ``normalize_input`` on a ``(n, h, w, 3)`` float32 tensor, vectorised over the batch.
    Elementwise normalisations (``raw``, ``Facenet2018``, ``VGGFace``, ``VGGFace2``, ``ArcFace``) are
    the same IEEE float32 operations as deepface's; ``Facenet``'s per-face mean and standard deviation
    are reductions in another summation order, so they agree to float32 rounding, not bit for bit."""
    import torch

    if normalization == "base":
        return x
    x = x * 255
    if normalization == "raw":
        return x
    if normalization == "Facenet":
        size = x[0].numel()
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = x.std(dim=(1, 2, 3), correction=0, keepdim=True).clamp_min(1 / size**0.5)
        return (x - mean) / std
    if normalization == "Facenet2018":
        return x / 127.5 - 1
    if normalization in ("VGGFace", "VGGFace2"):
        means = (
            (93.5940, 104.7624, 129.1863)
            if normalization == "VGGFace"
            else (91.4953, 103.8827, 131.0912)
        )
        return x - torch.tensor(means, dtype=torch.float32, device=x.device)
    if normalization == "ArcFace":
        return (x - 127.5) / 128
    raise ValueError(f"unimplemented normalization type - {normalization}")


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
