"""Bootstrap over identities: subjects are resampled, never pairs.

A replicate draws as many identities as the dataset has, with replacement, from all of them (or
within strata when given). It is represented by multiplicity weights ``w`` (how often each identity
was drawn); a group's rate in a replicate pools the drawn identities that belong to it. A rate that is a ratio of counts
becomes, in a replicate,

* 1-D (counts per probe identity ``a``: errors ``e_a``, trials ``n_a``): ``sum w_a e_a / sum w_a n_a``;
* 2-D (counts per identity pair, e.g. impostors of probe identity ``a`` vs reference identity
  ``b``): ``sum w_a w_b E_ab / sum w_a w_b N_ab``: both sides of a comparison are resampled.

A replicate with no trials gives NaN; intervals are percentile intervals over the finite
replicates (NaN when fewer than half the replicates are finite). The tables also report NaN when
fewer than two identities contribute trials: one cluster carries no between-identity variance. The
same weights are used for
every system, variant and threshold of a dataset, so differences between them are paired.
"""

from __future__ import annotations

import numpy as np


def identity_weights(strata, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_boot, n_identities)`` multiplicity weights, resampling within each stratum (one code for all
    identities = plain resampling of the whole set)."""
    strata = np.asarray(strata)
    n = strata.size
    w = np.zeros((n_boot, n), dtype=np.float64)
    rows = np.arange(n_boot)[:, None]
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        draws = members[rng.integers(0, members.size, size=(n_boot, members.size))]
        np.add.at(w, (np.broadcast_to(rows, draws.shape), draws), 1.0)
    return w


def _div(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def ratio_1d(weights: np.ndarray, errors, trials) -> np.ndarray:
    """Replicate rates ``(B,)`` of a 1-D ratio (see module docstring)."""
    return _div(weights @ np.asarray(errors, float), weights @ np.asarray(trials, float))


def quadratic(weights: np.ndarray, matrix) -> np.ndarray:
    """``w_b^T M w_b`` for every replicate ``b`` (``matrix`` dense ``(n, n)``)."""
    m = np.asarray(matrix, dtype=float)
    return np.einsum("bi,bi->b", weights @ m, weights)


def ratio_2d(weights: np.ndarray, errors, trials) -> np.ndarray:
    """Replicate rates ``(B,)`` of a 2-D ratio (both sides resampled)."""
    return _div(quadratic(weights, errors), quadratic(weights, trials))


def interval(replicates, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite replicates; NaN when fewer than half are finite."""
    r = np.asarray(replicates, dtype=float)
    fin = r[np.isfinite(r)]
    if r.size == 0 or fin.size < 0.5 * r.size:
        return float("nan"), float("nan")
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(fin, [a, 1.0 - a])
    return float(lo), float(hi)
