"""Every face in an image (dlib HOG + 68 landmarks) and the policy that picks which ones to mask.

The workflow detects exactly one face per image (:mod:`maskaudit.detect`, several faces are a failure to
acquire there); the ``maskaudit mask`` command masks arbitrary photos, so it finds all faces and masks
the ``largest`` (default) or ``all`` of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maskaudit.detect import HogLandmarks

POLICIES = ("largest", "all")


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 at full resolution
    score: float
    landmarks: np.ndarray  # (68, 2) float32 pixels


class FaceFinder(HogLandmarks):
    """All faces of an image, largest first. ``upsample`` 1 finds faces down to about 40 px (eye
    distance ~15 px) on the ``max_side`` copy; landmarks always use the full-resolution image."""

    def __init__(
        self,
        *,
        upsample: int = 1,
        max_side: int = 1600,
        min_score: float = 0.0,
        weights_dir: str | None = None,
    ):
        super().__init__(
            upsample=upsample, max_side=max_side, min_score=min_score, weights_dir=weights_dir
        )

    def find(self, rgb: np.ndarray) -> list[Face]:
        faces = [
            Face(box, float(score), self.landmarks(rgb, box)) for box, score in self.boxes(rgb)
        ]
        return sorted(faces, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def select_faces(faces: list[Face], policy: str) -> list[Face]:
    """``largest``: the face with the largest box (ties: higher score); ``all``: every face."""
    if policy not in POLICIES:
        raise ValueError(f"face policy must be one of {POLICIES}, got {policy!r}")
    return faces[:1] if policy == "largest" else list(faces)
