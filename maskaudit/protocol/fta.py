"""Failure to acquire: which component a failure is charged to (ISO/IEC 19795-1 accounting).

A failed image or comparison carries a reason string; its origin is read from the prefix:
``model_*`` (the face-recognition system itself, e.g. ``model_no_face``), ``vendor_*`` (a commercial
system, e.g. ``vendor_unavailable``), ``mask_*`` (mask rendering, e.g. ``mask_render_failed``), and
anything else (``no_face``, ``multiple_faces``, ``unreadable``, ``missing_file``, ``too_large``) is
the dataset's detection or reading, origin ``dataset``. ``ok`` and the empty string are not failures.

Who is charged (ISO/IEC 19795-1): ``model`` and ``vendor`` failures are the **system**'s own failures
to acquire or enrol (in ``end_to_end`` alignment ``model_no_face`` is the system's detector failing),
counted as errors by the ``*_system`` rates; ``dataset`` and ``mask`` failures are the audit
**pipeline**'s (the sample never reached the system as intended) and are never charged to the
system: they are left out of every rate's trials and reported as ``fta_pipeline``.
"""

from __future__ import annotations

import numpy as np

ORIGINS = ("dataset", "mask", "model", "vendor")
SYSTEM_ORIGINS = ("model", "vendor")
PIPELINE_ORIGINS = ("dataset", "mask")
OK = ("ok", "")


def charge(origin: str) -> str:
    """``system`` (model, vendor), ``pipeline`` (dataset, mask) or ``''`` (no failure)."""
    return (
        "system" if origin in SYSTEM_ORIGINS else "pipeline" if origin in PIPELINE_ORIGINS else ""
    )


def charges(reasons) -> np.ndarray:
    """:func:`charge` of the origin of every reason string (vectorised)."""
    o = origins(reasons)
    return np.array([charge(x) for x in o], dtype=object) if o.size else np.array([], dtype=object)


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
    return (
        np.array([fta_origin(u) for u in uniq], dtype=object)[inv.reshape(arr.shape)]
        if arr.size
        else np.array([], dtype=object)
    )


def pair_failure(probe_status, ref_status) -> tuple[np.ndarray, np.ndarray]:
    """``(reason, side)`` of each comparison: a pipeline failure on either side first (the comparison
    never reached the system as intended, so it is charged to the pipeline), then the probe's failure,
    else the reference's.

    ``side`` is ``probe``, ``reference`` or ``''``; ``reason`` is the status string (its prefix
    still names the origin) or ``''`` when both sides are ``ok``.
    """
    p = np.asarray(probe_status, dtype=object)
    r = np.asarray(ref_status, dtype=object)
    p_bad = ~np.isin(p, OK)
    r_bad = ~np.isin(r, OK)
    r_first = r_bad & (charges(r) == "pipeline") & ~(p_bad & (charges(p) == "pipeline"))
    p_bad = p_bad & ~r_first
    reason = np.where(p_bad, p, np.where(r_bad, r, ""))
    side = np.where(p_bad, "probe", np.where(r_bad, "reference", ""))
    return reason.astype(object), side.astype(object)
