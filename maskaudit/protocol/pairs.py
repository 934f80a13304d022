"""Vectorised pair building: the mated set, self pairs and the exclusions of near-duplicates.

No Python loop over pairs: mated pairs come from repeating each probe over its identity's gallery
block (``np.repeat`` + offsets), exclusions are matched by integer keys ``probe * G + gallery``.
"""

from __future__ import annotations

import numpy as np

from maskaudit.protocol.layout import Layout


def mated_pairs(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """``(probe, gallery)`` index arrays of every same-identity pair except the probe's own original.

    In the baseline (probes = gallery images) each unordered pair is kept once: gallery index of the
    reference > gallery index of the probe's own image. Sorted by probe, then gallery position.
    """
    counts = np.bincount(layout.gallery_ident, minlength=layout.n_identities)
    starts = np.zeros(layout.n_identities, dtype=np.int64)
    blocks = layout.ident_block >= 0
    starts[blocks] = layout.block_starts[layout.ident_block[blocks]]
    per_probe = counts[layout.probe_ident]
    probe = np.repeat(np.arange(layout.probe_ident.size), per_probe)
    offsets = np.arange(probe.size) - np.repeat(np.cumsum(per_probe) - per_probe, per_probe)
    gallery = layout.order[starts[layout.probe_ident[probe]] + offsets]
    keep = gallery != layout.self_col[probe]
    if layout.baseline:
        keep &= gallery > layout.self_col[probe]
    return probe[keep], gallery[keep]


def pair_keys(probe, gallery, n_gallery: int) -> np.ndarray:
    return np.asarray(probe, dtype=np.int64) * n_gallery + np.asarray(gallery, dtype=np.int64)


def excluded_pairs(
    layout: Layout, probe_ids, gallery_ids, near_duplicates: dict[str, set[str]], include_self: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``(near-duplicate keys, identification-exclusion keys)`` as sorted ``probe * G + gallery``.

    Near-duplicate keys: the probe against a near-duplicate of its own original. Identification
    excludes the probe's own original and those near-duplicates unless ``include_self``.
    """
    g_index = {str(i): k for k, i in enumerate(gallery_ids)}
    n_g = len(gallery_ids)
    dup = [
        (p, g_index[d])
        for p, pid in enumerate(map(str, probe_ids))
        for d in sorted(near_duplicates.get(pid, ()))
        if d in g_index
    ]
    dup_keys = np.unique(np.array([pair_keys(p, g, n_g) for p, g in dup], dtype=np.int64))
    if include_self:
        return dup_keys, np.zeros(0, dtype=np.int64)
    has_self = layout.self_col >= 0
    self_keys = pair_keys(np.flatnonzero(has_self), layout.self_col[has_self], n_g)
    return dup_keys, np.unique(np.concatenate([self_keys, dup_keys]))
