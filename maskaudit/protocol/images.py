"""The protocol's image table: one row per dataset image with its near-duplicates and open-set role.

Columns: ``image_id``, ``identity``, ``near_duplicates`` (``;``-joined ids of same-identity photos
that are the same picture, see :mod:`maskaudit.protocol.near_duplicates`), ``open_set``
(``gallery`` or ``held_out``). Written once per dataset by the ``build_protocol`` rule; scoring reads it.
"""

from __future__ import annotations

import pandas as pd

from maskaudit.protocol.near_duplicates import near_duplicate_map, near_duplicate_pairs
from maskaudit.protocol.open_set import held_out_identities
from maskaudit.tsv import read_tsv


def protocol_table(manifest: pd.DataFrame, signatures: dict, *, min_correlation: float, min_overlap: float,
                   holdout: float, seed: int, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``signatures``: image id -> face signature (images that failed detection are absent).

    Returns (image table, near-duplicate pairs)."""
    pairs = near_duplicate_pairs(manifest.image_id, manifest.identity.astype(str), signatures,
                                 min_correlation=min_correlation, min_overlap=min_overlap)
    dup = near_duplicate_map(pairs)
    held = held_out_identities(manifest.identity, holdout, seed, dataset)
    table = pd.DataFrame({
        "image_id": manifest.image_id.to_numpy(), "identity": manifest.identity.astype(str).to_numpy(),
        "near_duplicates": [";".join(sorted(dup.get(i, ()))) for i in manifest.image_id],
        "open_set": ["held_out" if str(x) in held else "gallery" for x in manifest.identity],
    })
    return table, pairs


def read_protocol_table(path) -> pd.DataFrame:
    return read_tsv(path, dtype=str)
