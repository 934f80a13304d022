"""Permutation tests over identities and Holm's step-down correction.

A group gap is tested by shuffling the group labels among identities (each identity keeps all its
comparisons), recomputing every group's rate and the gap statistic. ``p = (1 + #{T_perm >= T_obs})
/ (1 + n_perm)`` (never 0; one-sided in the gap, which is a max - min and so already two-sided in
the groups). Identities whose label is ``unknown`` are neither shuffled nor tested.
"""

from __future__ import annotations

import numpy as np


def permuted_labels(codes, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_perm, n)`` label arrays: ``codes`` shuffled among entries with code >= 0 (others keep -1)."""
    codes = np.asarray(codes)
    out = np.tile(codes, (n_perm, 1))
    known = np.flatnonzero(codes >= 0)
    for p in range(n_perm):  # a loop over permutations, not over pairs
        out[p, known] = codes[known][rng.permutation(known.size)]
    return out


def group_sums_1d(labels: np.ndarray, values, n_groups: int) -> np.ndarray:
    """``(n_perm, n_groups)`` sums of ``values`` per group for each label row (-1 ignored)."""
    labels = np.atleast_2d(labels)
    n_perm, n = labels.shape
    ok = labels >= 0
    idx = (np.arange(n_perm)[:, None] * n_groups + labels)[ok]
    vals = np.broadcast_to(np.asarray(values, float), labels.shape)[ok]
    return np.bincount(idx, weights=vals, minlength=n_perm * n_groups).reshape(n_perm, n_groups)


def group_sums_2d(labels: np.ndarray, matrix, n_groups: int) -> np.ndarray:
    """``(n_perm, n_groups)`` sums of ``matrix[a, b]`` over pairs with both a and b in the group."""
    labels = np.atleast_2d(labels)
    m = np.asarray(matrix, float)
    out = np.zeros((labels.shape[0], n_groups))
    for g in range(n_groups):
        z = (labels == g).astype(float)  # (n_perm, n)
        out[:, g] = np.einsum("pi,pi->p", z @ m, z)
    return out


def p_value(observed: float, permuted) -> float:
    perm = np.asarray(permuted, dtype=float)
    if not np.isfinite(observed):
        return float("nan")
    perm = perm[np.isfinite(perm)]
    return float((1 + np.count_nonzero(perm >= observed - 1e-12)) / (1 + perm.size))


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (NaN stay NaN and do not count towards the family size).

    ``p_adj(i) = max_{j <= i} min(1, (m - j + 1) p_(j))`` over the ascending order of the m finite
    p-values.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    fin = np.flatnonzero(np.isfinite(p))
    m = fin.size
    if m == 0:
        return out
    order = fin[np.argsort(p[fin], kind="stable")]
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(adj)
    return out
