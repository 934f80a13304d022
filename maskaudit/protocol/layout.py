"""Index structures shared by every scoring step: who is who on each side of the matrix.

The gallery is put in identity order once (``order``), so an identity's gallery images are one
contiguous block of columns and per-identity reductions are a single ``reduceat``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from maskaudit.protocol.fta import OK, charges


@dataclass
class Layout:
    identities: np.ndarray  # (n_id,) sorted unique identities of the dataset
    probe_ident: np.ndarray  # (P,) identity code of each probe
    gallery_ident: np.ndarray  # (G,) identity code of each gallery image
    probe_ok: np.ndarray  # (P,) bool
    gallery_ok: np.ndarray  # (G,) bool
    self_col: np.ndarray  # (P,) gallery index of the probe's own original, -1 if absent
    order: np.ndarray  # (G,) gallery indices sorted by identity (stable)
    position: np.ndarray  # (G,) position of gallery index j in ``order``
    block_starts: np.ndarray  # (B,) start of each identity block in ``order``
    block_ident: np.ndarray  # (B,) identity code of each block
    ident_block: np.ndarray  # (n_id,) block of each identity, -1 if not in the gallery
    baseline: bool  # probes are the unmasked gallery images themselves (variant none)
    probe_system_failed: np.ndarray | None = (
        None  # (P,) bool: failed with a system origin (model_*, vendor_*)
    )
    gallery_system_failed: np.ndarray | None = None  # (G,) bool: same, gallery side

    def __post_init__(self):
        if self.probe_system_failed is None:
            self.probe_system_failed = np.zeros(self.probe_ok.shape, bool)
        if self.gallery_system_failed is None:
            self.gallery_system_failed = np.zeros(self.gallery_ok.shape, bool)

    @property
    def n_identities(self) -> int:
        return self.identities.size


def build_layout(
    probe_ids, probe_status, gallery_ids, gallery_status, manifest: pd.DataFrame, baseline: bool
) -> Layout:
    """Align both sides with the manifest; every id must be a manifest image (ValueError otherwise)."""
    identity = manifest.set_index("image_id").identity.astype(str)
    for side, ids in (("probe", probe_ids), ("gallery", gallery_ids)):
        unknown = sorted(set(map(str, ids)) - set(identity.index))
        if unknown:
            raise ValueError(
                f"{len(unknown)} {side} id(s) are not in the dataset manifest: {unknown[:5]}"
            )
    identities = np.array(sorted(set(identity)))
    code = {x: k for k, x in enumerate(identities)}
    p_ident = np.array([code[identity[i]] for i in probe_ids], dtype=np.int64)
    g_ident = np.array([code[identity[i]] for i in gallery_ids], dtype=np.int64)
    g_index = {str(i): k for k, i in enumerate(gallery_ids)}
    self_col = np.array([g_index.get(str(i), -1) for i in probe_ids], dtype=np.int64)
    order = np.argsort(g_ident, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    sorted_ident = g_ident[order]
    if sorted_ident.size:
        starts = np.flatnonzero(np.r_[True, sorted_ident[1:] != sorted_ident[:-1]])
    else:
        starts = np.zeros(0, dtype=np.int64)
    block_ident = sorted_ident[starts]
    ident_block = np.full(identities.size, -1, dtype=np.int64)
    ident_block[block_ident] = np.arange(starts.size)
    probe_ok = np.isin(np.asarray(probe_status, dtype=object), OK)
    gallery_ok = np.isin(np.asarray(gallery_status, dtype=object), OK)
    return Layout(
        identities,
        p_ident,
        g_ident,
        probe_ok,
        gallery_ok,
        self_col,
        order,
        position,
        starts,
        block_ident,
        ident_block,
        baseline,
        charges(probe_status) == "system",
        charges(gallery_status) == "system",
    )
