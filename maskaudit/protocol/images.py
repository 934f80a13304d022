"""The protocol's image table: one row per dataset image with its near-duplicates and open-set role.

Columns: ``image_id``, ``identity``, ``phash`` (empty when detection failed), ``near_duplicates``
(``;``-joined ids of same-identity images within the Hamming limit), ``open_set`` (``gallery`` or
``held_out``). Written once per dataset by the ``build_protocol`` rule; scoring reads it.
"""

from __future__ import annotations

import pandas as pd

from maskaudit.protocol.near_duplicates import NO_HASH, near_duplicate_map, near_duplicate_pairs, phash
from maskaudit.protocol.open_set import held_out_identities
from maskaudit.tsv import read_tsv


def protocol_table(manifest: pd.DataFrame, chips: dict, *, max_hamming: int, holdout: float, seed: int,
                   dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``chips`` maps image id -> aligned RGB chip or None. Returns (image table, near-duplicate pairs)."""
    hashes = [phash(chips[i]) if chips.get(i) is not None else NO_HASH for i in manifest.image_id]
    pairs = near_duplicate_pairs(manifest.image_id, manifest.identity, hashes, max_hamming)
    dup = near_duplicate_map(pairs)
    held = held_out_identities(manifest.identity, holdout, seed, dataset)
    table = pd.DataFrame({
        "image_id": manifest.image_id.to_numpy(), "identity": manifest.identity.astype(str).to_numpy(),
        "phash": hashes, "near_duplicates": [";".join(sorted(dup.get(i, ()))) for i in manifest.image_id],
        "open_set": ["held_out" if str(x) in held else "gallery" for x in manifest.identity],
    })
    return table, pairs


def read_protocol_table(path) -> pd.DataFrame:
    return read_tsv(path, dtype=str)
