"""Face regions from the 68 iBUG/dlib landmarks, and the share of a map's mass in each.

Regions (a partition of the image, claimed in this order so that overlaps go to the first):

``mouth``       convex hull of the lips (48-59), grown by ``grow`` x the inter-ocular distance;
``nose``        convex hull of the bridge and base (27-35), grown likewise;
``eyes_brows``  convex hull of the brows and eyes (17-26, 36-47), grown likewise;
``jaw_cheeks``  the rest of the face: the hull of all 68 points (jaw line up to the brows);
``outside``     everything else (forehead above the brows, hair, background).

The share of region ``R`` in a map ``m`` is ``sum_{p in R} m+(p) / sum_p m+(p)`` with ``m+ = max(m, 0)``
(the support for the score; a negative occlusion value means hiding the pixel raised the score). A
map with no positive mass has NaN shares.
"""

from __future__ import annotations

import numpy as np

from maskaudit.explain import REGIONS

HULLS = {
    "mouth": range(48, 60),
    "nose": range(27, 36),
    "eyes_brows": [*range(17, 27), *range(36, 48)],
}


def region_labels(landmarks: np.ndarray, shape, grow: float = 0.1) -> np.ndarray:
    """``(H, W)`` int8 index into :data:`REGIONS` for every pixel of an image of ``shape``."""
    import cv2

    h, w = shape[:2]
    lm = np.asarray(landmarks, float)
    iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    radius = max(1, int(round(grow * iod)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    labels = np.full((h, w), REGIONS.index("outside"), np.int8)
    face = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(lm).astype(np.int32)), 1)
    labels[face > 0] = REGIONS.index("jaw_cheeks")
    for name in ("eyes_brows", "nose", "mouth"):  # reversed claim order: the last written wins
        part = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(
            part, cv2.convexHull(np.round(lm[list(HULLS[name])]).astype(np.int32)), 1
        )
        labels[cv2.dilate(part, kernel) > 0] = REGIONS.index(name)
    return labels


def region_shares(saliency: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Share of the positive mass of ``saliency`` in each region (order of :data:`REGIONS`)."""
    mass = np.clip(np.nan_to_num(np.asarray(saliency, float)), 0, None)
    total = mass.sum()
    if not total > 0:
        return np.full(len(REGIONS), np.nan)
    return (
        np.bincount(labels.ravel(), weights=mass.ravel(), minlength=len(REGIONS))[: len(REGIONS)]
        / total
    )
