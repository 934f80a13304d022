"""Failure to acquire: which component a failure is charged to (SEAMS 1).

A failed image or comparison carries a reason string; its origin is read from the prefix:
``model_*`` (the face-recognition system itself, e.g. ``model_no_face``), ``vendor_*`` (a commercial
system, e.g. ``vendor_unavailable``), ``mask_*`` (mask rendering, e.g. ``mask_render_failed``), and
anything else (``no_face``, ``multiple_faces``, ``unreadable``, ``missing_file``, ``too_large``) is
the dataset's detection or reading, origin ``dataset``. ``ok`` and the empty string are not failures.
"""

from __future__ import annotations

import numpy as np

ORIGINS = ("dataset", "mask", "model", "vendor")
OK = ("ok", "")


def fta_origin(reason: str) -> str:
    """``''`` for ``ok``/empty, else ``model``, ``vendor``, ``mask`` or ``dataset`` by prefix."""
    reason = str(reason)
    if reason in OK:
        return ""
    for prefix in ("model", "vendor", "mask"):
        if reason.startswith(prefix + "_"):
            return prefix
    return "dataset"


def origins(reasons) -> np.ndarray:
    """:func:`fta_origin` of every entry (vectorised over the unique reasons)."""
    arr = np.asarray(reasons, dtype=str)
    uniq, inv = np.unique(arr, return_inverse=True)
    return np.array([fta_origin(u) for u in uniq], dtype=object)[inv.reshape(arr.shape)] if arr.size else \
        np.array([], dtype=object)


def pair_failure(probe_status, ref_status) -> tuple[np.ndarray, np.ndarray]:
    """``(reason, side)`` of each comparison: the probe's failure first, else the reference's.

    ``side`` is ``probe``, ``reference`` or ``''``; ``reason`` is the status string (its prefix
    still names the origin) or ``''`` when both sides are ``ok``.
    """
    p = np.asarray(probe_status, dtype=object)
    r = np.asarray(ref_status, dtype=object)
    p_bad = ~np.isin(p, OK)
    r_bad = ~np.isin(r, OK)
    reason = np.where(p_bad, p, np.where(r_bad, r, ""))
    side = np.where(p_bad, "probe", np.where(r_bad, "reference", ""))
    return reason.astype(object), side.astype(object)
