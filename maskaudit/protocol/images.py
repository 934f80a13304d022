"""The protocol's image table: one row per dataset image with its near-duplicates and open-set role.

Columns: ``image_id``, ``identity``, ``near_duplicates`` (``;``-joined ids of same-identity photos
that are the same picture, see :mod:`maskaudit.protocol.near_duplicates`), ``duplicates_across``
(the same for photos of *other* identities: pairs left out of the impostors), ``open_set``
(``gallery`` or ``held_out``) and ``calibration`` (``calibration`` for the identities that fix the
thresholds when ``protocol.calibration_share`` > 0, else ``audit``; :mod:`maskaudit.protocol.calibration`).
Written once per dataset by the ``build_protocol`` rule; scoring reads it.

The duplicate screen's summary (one row per dataset, collected into ``tables/duplicates.tsv``):
``n_images`` / ``n_screened`` (images with a face signature) / ``n_identities``, ``mated_pairs``
(same-identity unordered pairs of screened images), ``within_pairs`` and ``within_share`` (the share
of mated pairs the within-identity cut-off removes; ``within_share_warning`` above
``protocol.near_duplicate_max_share``: on a same-session set, such as CFD, FEI or Georgia Tech, the
cut-off may take distinct photos for one picture and empty the mated set), ``across_pairs`` and
``across_identities`` (impostor image pairs excluded, identities involved), and the cut-offs used.
"""

from __future__ import annotations

import pandas as pd

from maskaudit.protocol.calibration import calibration_identities
from maskaudit.protocol.near_duplicates import (
    duplicate_pairs_across,
    near_duplicate_map,
    near_duplicate_pairs,
)
from maskaudit.protocol.open_set import held_out_identities
from maskaudit.tsv import read_tsv


def protocol_table(
    manifest: pd.DataFrame,
    signatures: dict,
    *,
    min_correlation: float,
    min_overlap: float,
    holdout: float,
    seed: int,
    dataset: str,
    max_within_share: float = 0.5,
    calibration_share: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``signatures``: image id -> face signature (images that failed detection are absent).

    Returns (image table, near-duplicate pairs with ``scope`` within/across, one-row summary)."""
    cut = {"min_correlation": min_correlation, "min_overlap": min_overlap}
    identity = manifest.identity.astype(str)
    within = near_duplicate_pairs(manifest.image_id, identity, signatures, **cut)
    across = duplicate_pairs_across(manifest.image_id, identity, signatures, **cut)
    dup, cross = near_duplicate_map(within), near_duplicate_map(across)
    held = held_out_identities(manifest.identity, holdout, seed, dataset)
    calib = calibration_identities(
        manifest.identity, calibration_share, seed, dataset, exclude=held
    )
    table = pd.DataFrame(
        {
            "image_id": manifest.image_id.to_numpy(),
            "identity": identity.to_numpy(),
            "near_duplicates": [";".join(sorted(dup.get(i, ()))) for i in manifest.image_id],
            "duplicates_across": [";".join(sorted(cross.get(i, ()))) for i in manifest.image_id],
            "open_set": ["held_out" if str(x) in held else "gallery" for x in manifest.identity],
            "calibration": [
                "calibration" if str(x) in calib else "audit" for x in manifest.identity
            ],
        }
    )
    pairs = pd.concat(
        [within.assign(scope="within"), across.assign(scope="across")], ignore_index=True
    )
    of = dict(zip(manifest.image_id, identity))
    screened = identity[manifest.image_id.isin(list(signatures)).to_numpy()]
    per_id = screened.value_counts()
    mated = int((per_id * (per_id - 1) // 2).sum())
    share = len(within) / mated if mated else float("nan")
    summary = pd.DataFrame(
        [
            {
                "dataset": dataset,
                "n_images": len(manifest),
                "n_screened": int(screened.size),
                "n_identities": int(identity.nunique()),
                "mated_pairs": mated,
                "within_pairs": len(within),
                "within_share": share,
                "within_share_warning": bool(mated and share > max_within_share),
                "max_within_share": float(max_within_share),
                "across_pairs": len(across),
                "across_identities": len({of[i] for i in cross}),
                "min_correlation": float(min_correlation),
                "min_overlap": float(min_overlap),
            }
        ]
    )
    return table, pairs, summary


def read_protocol_table(path) -> pd.DataFrame:
    return read_tsv(path, dtype=str)
