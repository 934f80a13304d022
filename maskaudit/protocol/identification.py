"""1:N search on one block of probes: candidates ranked by identity, never by image.

An identity's score for a probe is its best score over the identity's gallery images (NaN =
not compared, ranked after every compared one). Conventions:

* ``mate_rank = #{identities b : best_b >= best_mate}`` (the mate itself included, so a probe whose
  mate scores highest has rank 1); ties count against the probe (pessimistic, consistent with
  accept iff ``s >= t``). NaN when the probe failed or its mate has no score.
* Top-k candidates: the k identities with the highest scores, in descending score order; among
  identities tied on score the lower identity code (alphabetical identity) comes first.
"""

from __future__ import annotations

import numpy as np

NEG = -np.inf


def identity_best(block: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``(c, B)`` best score per identity block; ``-inf`` where an identity has no score."""
    filled = np.where(np.isnan(block), NEG, block)
    if starts.size == 0:
        return np.full((block.shape[0], 0), NEG, dtype=filled.dtype)
    return np.maximum.reduceat(filled, starts, axis=1)


def search(
    best: np.ndarray,
    mate_block: np.ndarray,
    searchable: np.ndarray,
    rank_k: int,
    hidden: np.ndarray | None = None,
) -> dict:
    """Ranks and scores of one block of searches.

    ``best``: ``(c, B)`` identity scores (:func:`identity_best`); ``mate_block``: ``(c,)`` block of
    each probe's identity (-1 if absent); ``searchable``: ``(c,)`` False for failed probes;
    ``hidden``: ``(B,)`` identities left out of the gallery (open set).
    """
    best = best.copy()
    if hidden is not None and hidden.any():
        best[:, hidden] = NEG
    c, n_blocks = best.shape
    rows = np.arange(c)
    has_block = mate_block >= 0
    mate = np.full(c, NEG)
    mate[has_block] = best[rows[has_block], mate_block[has_block]]
    scored = searchable & np.isfinite(mate)
    rank = np.where(scored, (best >= mate[:, None]).sum(1), np.nan).astype(float)
    others = best.copy()
    others[rows[has_block], mate_block[has_block]] = NEG
    if n_blocks:
        nonmate_block = others.argmax(1)
        nonmate = others[rows, nonmate_block]
    else:
        nonmate_block, nonmate = np.zeros(c, dtype=np.int64), np.full(c, NEG)
    k = min(rank_k, n_blocks)
    if k:
        part = (
            np.argpartition(-best, k - 1, axis=1)[:, :k]
            if k < n_blocks
            else np.tile(np.arange(n_blocks), (c, 1))
        )
        vals = np.take_along_axis(best, part, 1)
        # exact order: score descending, then block (identity code) ascending; ties at the k-th
        # place broken the same way by re-selecting among all blocks tied with the k-th score
        kth = vals.min(1)
        tied = best >= kth[:, None]
        key_rows, key_cols = np.nonzero(tied)
        score = best[key_rows, key_cols]
        sel = np.lexsort((key_cols, -score, key_rows))
        key_rows, key_cols = key_rows[sel], key_cols[sel]
        first = np.searchsorted(key_rows, rows)
        idx = first[:, None] + np.arange(k)[None, :]
        top = key_cols[np.minimum(idx, key_cols.size - 1)]
        top_scores = np.take_along_axis(best, top, 1)
    else:
        top, top_scores = np.zeros((c, 0), dtype=np.int64), np.zeros((c, 0))
    fin = np.isfinite
    return {
        "mate_rank": rank,
        "mate_score": np.where(scored, mate, np.nan),
        "best_nonmate_score": np.where(searchable & fin(nonmate), nonmate, np.nan),
        "best_nonmate_block": np.where(searchable & fin(nonmate), nonmate_block, -1),
        "top_blocks": np.where(searchable[:, None] & fin(top_scores), top, -1),
        "top_scores": np.where(searchable[:, None] & fin(top_scores), top_scores, np.nan),
    }
