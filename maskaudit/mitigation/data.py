"""Training data for a head: the identity-disjoint split and the masked/unmasked pairs.

The split assigns whole identities to ``train``, ``val`` or ``test`` (never images), with a seeded
shuffle of the sorted identity names, so the same seed and identities give the same file on any
machine. ``test`` gets ``round(test * n)`` identities and ``val`` ``round(val * n)``, each at least
one when there are three or more identities; the rest train.

A pair is one image of one mask variant: its masked embedding and the same image's unmasked
embedding (variant ``none``). Images that failed acquisition in either (NaN rows, non-``ok``
status) are left out and counted.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from maskaudit.embed import load_cache
from maskaudit.seeding import rng_for

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


def split_identities(
    identities, seed: int, dataset: str, *, val: float, test: float
) -> pd.DataFrame:
    """One row per identity (sorted): ``identity``, ``split``."""
    names = sorted(set(map(str, identities)))
    n = len(names)
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError(
            f"split fractions val={val}, test={test}: each in [0, 1) and together below 1"
        )
    order = rng_for(seed, "mitigation-split", dataset).permutation(n)
    n_test, n_val = int(round(test * n)), int(round(val * n))
    if n >= 3:
        n_test, n_val = max(n_test, 1), max(n_val, 1)
    n_test, n_val = min(n_test, n), min(n_val, max(n - n_test, 0))
    labels = np.array(["train"] * n, dtype=object)
    labels[order[:n_test]] = "test"
    labels[order[n_test : n_test + n_val]] = "val"
    return pd.DataFrame({"identity": names, "split": labels})


def read_split(path) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if list(table.columns) != ["identity", "split"] or not set(table.split) <= set(SPLITS):
        raise ValueError(f"{path}: not a split file (identity, split in {SPLITS})")
    return table


def load_pairs(unmasked_cache, masked_caches: dict, identity_of: dict) -> pd.DataFrame:
    """Pairs of every masked variant: a frame with ``image_id``, ``variant``, ``identity``, and the
    vectors in ``attrs['masked']``, ``attrs['unmasked']`` (``(N, D)`` float32, rows in frame order).

    ``identity_of`` maps image id to identity (the manifest). Failed images are dropped and the
    counts logged per variant (``attrs['dropped']``)."""
    ids0, vec0, st0 = load_cache(unmasked_cache)
    row0 = {i: k for k, i in enumerate(ids0)}
    frames, masked, unmasked, dropped = [], [], [], {}
    for variant, path in masked_caches.items():
        ids, vec, st = load_cache(path)
        keep = [
            k
            for k, i in enumerate(ids)
            if st[k] == "ok"
            and i in row0
            and st0[row0[i]] == "ok"
            and np.isfinite(vec[k]).all()
            and np.isfinite(vec0[row0[i]]).all()
        ]
        dropped[variant] = len(ids) - len(keep)
        if dropped[variant]:
            log.info(
                "%s: %d of %d images left out (failed masked or unmasked)",
                variant,
                dropped[variant],
                len(ids),
            )
        frames.append(
            pd.DataFrame(
                {
                    "image_id": [ids[k] for k in keep],
                    "variant": variant,
                    "identity": [identity_of[ids[k]] for k in keep],
                }
            )
        )
        masked.append(vec[keep])
        unmasked.append(vec0[[row0[ids[k]] for k in keep]])
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["image_id", "variant", "identity"])
    )
    dim = vec0.shape[1]
    table.attrs.update(
        masked=np.concatenate(masked).astype(np.float32)
        if masked
        else np.zeros((0, dim), np.float32),
        unmasked=np.concatenate(unmasked).astype(np.float32)
        if unmasked
        else np.zeros((0, dim), np.float32),
        dropped=dropped,
    )
    return table


def subset(pairs: pd.DataFrame, identities) -> pd.DataFrame:
    """The pairs of ``identities`` (vectors in ``attrs`` follow)."""
    mask = pairs.identity.isin(set(identities)).to_numpy()
    out = pairs[mask].reset_index(drop=True)
    out.attrs = {
        **pairs.attrs,
        "masked": pairs.attrs["masked"][mask],
        "unmasked": pairs.attrs["unmasked"][mask],
    }
    return out
