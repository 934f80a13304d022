"""A model owns its face pipeline: find the face, align it, resize, normalise, embed.

Two alignment modes (config key ``embedding.alignment``):

``end_to_end``
    The model's own detector (a deepface detector backend, deepface's default ``opencv``) runs on
    every image, masked or not, exactly as ``DeepFace.represent``/``verify`` do: the face is
    detected, aligned on the eyes when ``align``, resized to the network's input with black padding
    (``deepface.modules.preprocessing.resize_image``) and normalised. An image where the model finds
    no face is a failure to acquire charged to the model (``model_no_face``). If several faces are
    found, the largest is used and the count is recorded.
``shared_landmarks``
    The dataset's 68 landmarks, found once on the unmasked original, align every variant (dlib's
    face chip); only the embedding's robustness to the mask is measured.

Both feed the same resize/normalise/forward code, so the modes differ only in where the face comes from.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from maskaudit.detect import face_chip
from maskaudit.fetch import sha256_file
from maskaudit.models.located import FaceLocator, extract_located
from maskaudit.weights import FETCH_DIR, locate_all, stage_deepface_home

log = logging.getLogger(__name__)


@dataclass
class Face:
    status: str  # "ok" or a model_* failure-to-acquire reason
    crop: np.ndarray | None = None  # RGB float in [0, 1], before resizing
    detail: str = ""
    box: tuple = (np.nan,) * 4  # x, y, w, h in the image (end_to_end only)
    confidence: float = np.nan  # the detector's score (end_to_end only)
    n_faces: int = 0


def limit_threads(n: int) -> None:
    """Let OpenCV and PyTorch use at most ``n`` threads, the job's declared ``threads`` (both default to
    every core of the machine, whatever the scheduler granted)."""
    import cv2

    cv2.setNumThreads(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def resolve_files(card, alignment: str, weights_dir=None, fetch_dir=FETCH_DIR) -> dict[str, Path]:
    """Every file the model loads, found on disk; :class:`WeightsNotFound` names the first missing one."""
    from maskaudit.models.files import required_files

    return locate_all(required_files(card, alignment), card.id, weights_dir, fetch_dir)


def acquire_face(
    card, alignment: str, rgb: np.ndarray, landmarks: np.ndarray | None, regions: np.ndarray | None
) -> Face:
    """The face ``card`` embeds from one image, given what was found in it beforehand: the dataset's
    68 ``landmarks`` (``shared_landmarks``) or the detector's stored ``regions`` (``end_to_end``; unused
    when the detector is ``skip``). Needs no network, so loader workers run it (:mod:`maskaudit.embed`)."""
    if alignment == "shared_landmarks":
        if landmarks is None or not np.isfinite(landmarks).all():  # the dataset's detection failed
            return Face("no_face", detail="no dataset landmarks to align with")
        chip = face_chip(rgb, landmarks, max(card.input_size), card.chip_padding)
        return Face("ok", chip.astype(np.float64) / 255.0, n_faces=1)
    found = extract_located(
        rgb,
        regions,
        detector=card.detector,
        align=card.align,
        expand_percentage=card.expand_percentage,
    )
    if not found:
        return Face("model_no_face", detail=f"deepface detector '{card.detector}' found no face")
    best = max(found, key=lambda f: f["facial_area"]["w"] * f["facial_area"]["h"])
    area = best["facial_area"]
    detail = f"{len(found)} faces found; the largest was embedded" if len(found) > 1 else ""
    return Face(
        "ok",
        best["face"],
        detail,
        (area["x"], area["y"], area["w"], area["h"]),
        float(best["confidence"]),
        len(found),
    )


def prepare_face(crop: np.ndarray, input_size: tuple[int, int], normalization: str) -> np.ndarray:
    """One face as deepface's ``represent`` feeds it to the network, ``(h, w, 3)`` float32 BGR:
    :func:`resize_face`, then deepface's ``normalize_input``. The same operations in the same order and
    precision as deepface, without its copies (channel flip, padding, batch concatenation), so the
    result is bit-identical (tests/unit/test_gpu_embedding.py)."""
    from deepface.modules.preprocessing import normalize_input

    return normalize_input(resize_face(crop, input_size), normalization)


def resize_face(crop: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """deepface's ``resize_image`` of one RGB crop (float in [0, 1]), ``(h, w, 3)`` float32 BGR, not
    normalised: what the ``prepare_faces`` stage stores (:mod:`maskaudit.prepare`).

    Scale the crop by ``f = min(h / rows, w / cols)`` to ``(int(cols f), int(rows f))`` with OpenCV's
    bilinear ``resize`` in the crop's own precision, pad with black to ``(h, w)`` centred (the odd pixel
    at the bottom/right), cast to float32 and divide by 255 if any value exceeds 1.
    """
    import cv2

    w, h = input_size
    rows, cols = crop.shape[:2]
    factor = min(h / rows, w / cols)
    dsize = (int(cols * factor), int(rows * factor))
    # resize treats channels independently: resize whichever of RGB/BGR is contiguous (no copy), then flip
    img = (
        cv2.resize(crop, dsize)[:, :, ::-1]
        if crop.flags.c_contiguous
        else cv2.resize(crop[:, :, ::-1], dsize)
    )
    out = np.zeros((h, w, 3), np.float32)
    top, left = (h - img.shape[0]) // 2, (w - img.shape[1]) // 2
    out[top : top + img.shape[0], left : left + img.shape[1]] = img
    if out.max() > 1:
        out = (out / 255.0).astype(np.float32)
    return out


def normalize_batch(batch: np.ndarray, normalization: str) -> np.ndarray:
    """deepface's ``normalize_input`` applied to each face of an ``(n, h, w, 3)`` float32 batch of
    :func:`resize_face` outputs, in place where deepface works in place: face for face the same
    operations on the same contiguous array, so bit-identical to :func:`prepare_face`."""
    from deepface.modules.preprocessing import normalize_input

    if normalization != "base":
        for k in range(len(batch)):
            batch[k] = normalize_input(batch[k], normalization)
    return batch


@dataclass(frozen=True)
class FacePipeline:
    """A model's face pipeline without its network (alignment and preprocessing), picklable."""

    card: object
    alignment: str
    normalize: bool = (
        True  # False: stop before ``normalize_input`` (the prepare_faces stage's arrays)
    )

    def load(self, path, landmarks, regions) -> tuple[Face, np.ndarray | None]:
        """Decode, align and preprocess one stored image: its :class:`Face` (crop dropped) and the
        network's input, or ``None`` where acquisition failed. Raises ``ImageReadError``."""
        from maskaudit.imageio import read_rgb

        face = acquire_face(self.card, self.alignment, read_rgb(path), landmarks, regions)
        if face.status != "ok":
            return face, None
        prepared = (
            prepare_face(face.crop, self.card.input_size, self.card.normalization)
            if self.normalize
            else resize_face(face.crop, self.card.input_size)
        )
        face.crop = None
        return face, prepared


class EmbeddingModel:
    """Base of every embedding model; subclasses implement :meth:`_load`, :meth:`_forward`, :meth:`_versions`."""

    def __init__(
        self,
        card,
        alignment: str = "shared_landmarks",
        weights_dir=None,
        fetch_dir=FETCH_DIR,
        files: dict[str, Path] | None = None,
    ):
        self.card, self.alignment = card, alignment
        self.files = (
            files if files is not None else resolve_files(card, alignment, weights_dir, fetch_dir)
        )
        # deepface loads only from $DEEPFACE_HOME/.deepface/weights and downloads what is missing there;
        # a private home holding exactly the resolved files means it never downloads.
        self.home = stage_deepface_home(self.files)
        os.environ["DEEPFACE_HOME"] = str(self.home)
        self._load()

    # -- the pipeline -------------------------------------------------------------------------
    def acquire(
        self, rgb: np.ndarray, landmarks: np.ndarray | None, located: np.ndarray | None = None
    ) -> Face:
        """The face this model embeds from one RGB ``uint8`` image (landmarks: the dataset's 68 points;
        ``located``: in ``end_to_end``, the regions its detector already found in this image, stored by
        the ``locate_faces`` rule; without them the detector runs here)."""
        if (
            self.alignment == "shared_landmarks"
            or located is not None
            or self.card.detector == "skip"
        ):
            return acquire_face(self.card, self.alignment, rgb, landmarks, located)
        return self._detect(rgb, located)

    @property
    def locator(self) -> FaceLocator:
        if getattr(self, "_locator", None) is None:
            # __init__ staged its files
            self._locator = FaceLocator(self.card.detector, self.card.align, staged=True)
        return self._locator

    def _detect(self, rgb: np.ndarray, located: np.ndarray | None = None) -> Face:
        regions = self.locator.locate(rgb) if located is None else located
        return acquire_face(self.card, self.alignment, rgb, None, regions)

    def prepare(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """deepface's own preprocessing: RGB -> BGR, resize with padding, normalise; ``(n, h, w, 3)``
        float32, element for element what ``resize_image`` + ``normalize_input`` give (:func:`prepare_face`)."""
        w, h = self.card.input_size
        out = np.empty((len(crops), h, w, 3), np.float32)
        for k, crop in enumerate(crops):
            out[k] = prepare_face(crop, self.card.input_size, self.card.normalization)
        return out

    def represent(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings ``(len(crops), dim)`` float32, one forward pass for the batch."""
        if not len(crops):
            return np.zeros((0, self.card.dim), np.float32)
        return self.represent_prepared(self.prepare(crops))

    def represent_prepared(self, batch: np.ndarray) -> np.ndarray:
        """Embeddings of a batch :meth:`prepare` (or :func:`prepare_face`, in a loader worker) made."""
        out = np.asarray(self._forward(batch), dtype=np.float32).reshape(len(batch), -1)
        if out.shape[1] != self.card.dim:
            raise RuntimeError(
                f"{self.card.id}: network returned {out.shape[1]}-d vectors, card says {self.card.dim}"
            )
        return out

    def submit(self, inputs: Sequence[np.ndarray]):
        """Start the forward pass of a batch of prepared faces; returns a function that gives the
        embeddings. Here the pass runs at once; a model on an accelerator returns while its device
        works, so the caller can load the next batch meanwhile (:func:`maskaudit.embed.embed_images`)."""
        out = self.represent_prepared(np.stack(inputs))
        return lambda: out

    def host_buffer(self, n: int) -> np.ndarray:
        """A host array for ``n`` resized faces ``(n, h, w, 3)`` float32 that :meth:`submit_resized`
        takes (page-locked on CUDA, so the copy to the device runs without blocking)."""
        w, h = self.card.input_size
        return np.empty((n, h, w, 3), np.float32)

    def submit_resized(self, batch: np.ndarray):
        """:meth:`submit` for a batch of :func:`resize_face` outputs (a :meth:`host_buffer`, which it
        may overwrite): normalised here face by face (:func:`normalize_batch`, exact), then the forward
        pass; a model on an accelerator normalises there instead. Returns a function giving the vectors."""
        out = self.represent_prepared(normalize_batch(batch, self.card.normalization))
        return lambda: out

    def pipeline(self) -> FacePipeline:
        """The model's face pipeline without its network: picklable, for loader worker processes."""
        return FacePipeline(self.card, self.alignment)

    def embed(
        self, images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray | None]
    ) -> np.ndarray:
        """Convenience for whole images: NaN rows where the model found no face."""
        faces = [self.acquire(img, lm) for img, lm in zip(images, landmarks)]
        out = np.full((len(faces), self.card.dim), np.nan, np.float32)
        ok = [i for i, f in enumerate(faces) if f.status == "ok"]
        if ok:
            out[ok] = self.represent([faces[i].crop for i in ok])
        return out

    # -- provenance -----------------------------------------------------------------------------
    def describe(self) -> dict:
        """Everything that determines the vectors, recorded in every embedding cache's sidecar."""
        c = self.card
        pipeline = {
            "alignment": self.alignment,
            "input_size": list(c.input_size),
            "normalization": c.normalization,
        }
        if self.alignment == "end_to_end":
            pipeline.update(
                detector=c.detector,
                align=c.align,
                expand_percentage=c.expand_percentage,
                face_choice="largest detected face",
                resize="deepface resize_image (black padding)",
            )
        else:
            pipeline.update(
                chip=f"dlib.get_face_chip from the dataset's 68 landmarks, "
                f"{max(c.input_size)}x{max(c.input_size)}, padding {c.chip_padding}"
            )
        return {
            "model": c.id,
            "name": c.name,
            "kind": c.kind,
            "family": c.family,
            "deepface_name": c.deepface_name,
            "dim": c.dim,
            "metric": c.metric,
            "threshold": c.threshold,
            "threshold_source": c.threshold_source,
            "thresholds": c.thresholds,
            "alignment": self.alignment,
            "pipeline": pipeline,
            "weights": {
                name: sha256_file(p, cached=True) for name, p in sorted(self.files.items())
            },
            **self._versions(),
        }

    def _versions(self) -> dict:
        import deepface

        from maskaudit.models.files import deepface_engine

        return {
            "deepface_version": deepface.__version__,
            "engine": deepface_engine(),
            "device": self.device,
        }

    device = "cpu"

    def _load(self) -> None:
        raise NotImplementedError

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError
