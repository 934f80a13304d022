"""The arrays of one explanation job (one system, dataset and variant), shared by every kind of system.

One row per sampled photo: ``status`` / ``detail`` (``ok`` or why the photo has no map), the map on
the system's input grid (``maps``), the affine ``to_image`` from that grid to the stored photo, the
photo's shape and landmarks, the region shares of the map warped onto the photo, and the target
value (the explained similarity)."""

from __future__ import annotations

import numpy as np

from maskaudit.explain import REGIONS, geometry
from maskaudit.explain.regions import region_labels, region_shares


def empty_result(sample: list[str], input_size: tuple[int, int], **extra) -> dict:
    """Rows for ``sample``, nothing mapped yet (NaN maps, status ``ok`` until a failure is recorded);
    ``extra``: further per-photo arrays a kind of system adds."""
    w, h = input_size
    n = len(sample)
    return {
        "image_id": np.array(sample, dtype=str),
        "status": ["ok"] * n,
        "detail": [""] * n,
        "maps": np.full((n, h, w), np.nan, np.float32),
        "to_image": np.full((n, 2, 3), np.nan),
        "image_shape": np.zeros((n, 2), np.int32),
        "landmarks": np.full((n, 68, 2), np.nan, np.float32),
        "shares": np.full((n, len(REGIONS)), np.nan),
        "target": np.full(n, np.nan),
        **extra,
    }


def record_map(
    out: dict, k: int, sal, to_image, target: float, shape, landmarks, grow: float
) -> None:
    """Row ``k``: the map, its affine to the photo of ``shape``, the target, and the region shares of
    the map warped onto the photo (regions from ``landmarks``, hulls grown by ``grow``)."""
    out["maps"][k], out["to_image"][k], out["target"][k] = sal, to_image, target
    out["image_shape"][k], out["landmarks"][k] = shape[:2], landmarks
    on_image = geometry.warp(sal, to_image, shape)
    out["shares"][k] = region_shares(on_image, region_labels(landmarks, shape, grow))


def finish(out: dict) -> dict:
    """The result with ``status`` and ``detail`` as string arrays (what the ``.npz`` stores)."""
    out["status"] = np.array(out["status"], dtype=str)
    out["detail"] = np.array(out["detail"], dtype=str)
    return out
