"""deepface's face extraction in two steps, so models that share a detector share its work.

``DeepFace.represent`` runs its detector on every image for every model. In ``end_to_end`` the nine
deepface models all use the same detector (``opencv`` unless overridden) on the same stored images,
and the detector costs more than most networks' forward pass (benchmarks/bench_models.py). So:

1. :class:`FaceLocator` runs deepface's detector backend once per (detector, align, image), on the
   image deepface would give it (BGR, with the black border deepface adds before aligning), and the
   ``locate_faces`` rule stores every region found (:func:`save_located`).
2. :func:`extract_located` gives each model its face from the stored regions with deepface's own
   ``extract_face`` (expansion, eye alignment, crop) and the final steps of
   ``deepface.modules.detection.extract_faces`` (RGB, [0, 1], clipping to the image).

The result equals ``extract_faces(..., enforce_detection=True, color_face="rgb", normalize_face=True)``
face for face (tests/unit/test_models.py). A region is 15 numbers: x, y, w, h, confidence and the (x, y)
of left eye, right eye, nose, mouth left, mouth right (NaN where the detector gives none), in the
coordinates of the bordered image.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

FIELDS = ("x", "y", "w", "h", "confidence")
POINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
WIDTH = len(FIELDS) + 2 * len(POINTS)


def locator_id(detector: str, align: bool) -> str:
    """Folder name of a locator: the detector, and whether deepface aligns (which adds a border)."""
    return detector if align else f"{detector}-unaligned"


def _bordered(rgb: np.ndarray, align: bool) -> tuple[np.ndarray, int, int]:
    """The BGR image deepface's detector sees, and the border widths (deepface's ``detect_faces``)."""
    import cv2

    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    height, width = bgr.shape[:2]
    hb, wb = int(0.5 * height), int(0.5 * width)
    if align:
        bgr = cv2.copyMakeBorder(bgr, hb, hb, wb, wb, cv2.BORDER_CONSTANT, value=[0, 0, 0])
    return bgr, wb, hb


class FaceLocator:
    """One deepface detector backend, run as deepface runs it before extracting faces."""

    def __init__(
        self, detector: str, align: bool, *, weights_dir=None, fetch_dir=None, staged: bool = False
    ):
        """``staged``: a model already put the detector's files in ``DEEPFACE_HOME``; otherwise they
        are located like every weight file (:mod:`maskaudit.weights`) and staged in a private home."""
        from deepface.modules import modeling

        from maskaudit.models.files import detector_files
        from maskaudit.weights import FETCH_DIR, locate_all, stage_deepface_home

        self.detector, self.align = detector, align
        if not staged:
            files = locate_all(
                detector_files(detector),
                f"detector {detector}",
                weights_dir,
                fetch_dir or FETCH_DIR,
            )
            os.environ["DEEPFACE_HOME"] = str(stage_deepface_home(files))
            if hasattr(modeling, "cached_models"):  # never reuse a detector built from another home
                del modeling.cached_models
        self._backend = modeling.build_model(task="face_detector", model_name=detector)

    def locate(self, rgb: np.ndarray) -> np.ndarray:
        """Every region the detector finds, ``(n_faces, 15)`` float64."""
        bgr, _, _ = _bordered(rgb, self.align)
        regions = self._backend.detect_faces(bgr)
        out = np.full((len(regions), WIDTH), np.nan)
        for k, r in enumerate(regions):
            out[k, :5] = [r.x, r.y, r.w, r.h, np.nan if r.confidence is None else r.confidence]
            for j, name in enumerate(POINTS):
                point = getattr(r, name, None)
                if point is not None:
                    out[k, 5 + 2 * j : 7 + 2 * j] = point
        return out

    def describe(self) -> dict:
        import deepface

        return {
            "detector": self.detector,
            "align": self.align,
            "deepface_version": deepface.__version__,
        }


def _region(row: np.ndarray):
    from deepface.models.Detector import FacialAreaRegion

    points = {
        name: (None if np.isnan(row[5 + 2 * j]) else (int(row[5 + 2 * j]), int(row[6 + 2 * j])))
        for j, name in enumerate(POINTS)
    }
    return FacialAreaRegion(
        x=int(row[0]),
        y=int(row[1]),
        w=int(row[2]),
        h=int(row[3]),
        confidence=None if np.isnan(row[4]) else float(row[4]),
        **points,
    )


def extract_located(
    rgb: np.ndarray, regions: np.ndarray, *, detector: str, align: bool, expand_percentage: int = 0
) -> list[dict]:
    """The faces deepface's ``extract_faces`` returns for ``rgb``, from the stored ``regions``:
    dicts with ``face`` (RGB float in [0, 1]), ``facial_area`` (x, y, w, h) and ``confidence``.
    ``detector="skip"`` (no detector) gives the whole image, as deepface does; ``regions`` is unused."""
    from deepface.modules import detection

    height, width = rgb.shape[:2]
    if detector == "skip":  # deepface takes the whole image as the face
        face = rgb if rgb.max() <= 1 else rgb / 255
        return [
            {
                "face": face,
                "confidence": 0.0,
                "facial_area": {"x": 0, "y": 0, "w": width - 1, "h": height - 1},
            }
        ]
    bgr, wb, hb = _bordered(rgb, align)
    out = []
    for row in regions:
        found = detection.extract_face(
            facial_area=_region(row),
            img=bgr,
            align=align,
            expand_percentage=max(0, expand_percentage),
            width_border=wb,
            height_border=hb,
            detector_backend=detector,
        )
        face = found.img
        if face.shape[0] == 0 or face.shape[1] == 0:
            continue
        face = face[:, :, ::-1]
        if face.max() > 1:
            face = face / 255
        area = found.facial_area
        x, y = max(0, int(area.x)), max(0, int(area.y))
        out.append(
            {
                "face": face,
                "confidence": round(float(found.confidence or 0), 2),
                "facial_area": {
                    "x": x,
                    "y": y,
                    "w": min(width - x - 1, int(area.w)),
                    "h": min(height - y - 1, int(area.h)),
                },
            }
        )
    return out


def save_located(
    path: str | Path, image_ids: list[str], regions: list[np.ndarray | None], describe: dict
) -> None:
    """All regions of all images in one file: ``regions`` stacked, ``offsets`` per image, and
    ``searched`` false where an image was not searched (``None``: it failed before, or is unreadable)."""
    counts = [0 if r is None else len(r) for r in regions]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    searched = np.array([r is not None for r in regions])
    stacked = np.concatenate(
        [r for r in regions if r is not None and len(r)] or [np.zeros((0, WIDTH))]
    )
    np.savez_compressed(
        path,
        image_id=np.array(image_ids, dtype=str),
        offsets=offsets,
        searched=searched,
        regions=stacked,
        describe=np.array(json.dumps(describe, sort_keys=True)),
    )


def load_located(path: str | Path) -> dict[str, np.ndarray]:
    """Image id -> its ``(n_faces, 15)`` regions, for the images that were searched."""
    with np.load(path) as z:
        ids, offsets, searched, regions = (
            z["image_id"].tolist(),
            z["offsets"],
            z["searched"],
            z["regions"],
        )
    return {i: regions[offsets[k] : offsets[k + 1]] for k, i in enumerate(ids) if searched[k]}


def locate_images(locator: FaceLocator, table) -> list[np.ndarray | None]:
    """Regions for every row of a variant manifest whose status is ``ok``; ``None`` for the rest
    and for images that cannot be read (the embedding job records why when it reads them)."""
    from maskaudit.imageio import ImageReadError, read_rgb
    from maskaudit.progress import progress
    from maskaudit.usage import stage

    out: list[np.ndarray | None] = [None] * len(table)
    todo = [k for k, s in enumerate(table.status) if s == "ok"]
    for k in progress(todo, desc=f"locate faces ({locator.detector})", unit="img"):
        try:
            with stage("decode"):
                rgb = read_rgb(table.path.iloc[k])
        except ImageReadError:
            continue
        with stage("detect"):
            out[k] = locator.locate(rgb)
    return out
