"""Demographic differential summaries over per-group rates at one global threshold.

Every function takes the per-group rates as a plain array (groups with NaN rates are dropped) and
returns a plain number; fewer than two groups give NaN. Behaviour at zero, by design:

* ``max_min_ratio``: ``max / min``; all groups 0 -> 1.0 (no differential); ``min == 0 < max`` -> NaN
  (undefined: an infinite ratio says nothing about size; read ``max_min_difference`` and the counts).
* ``max_min_difference``: ``max - min`` (always defined).
* ``fdr`` (de Freitas Pereira & Marcel 2022): ``1 - (alpha * A + (1 - alpha) * B)``, ``A`` / ``B``
  the max - min of FMR / FNMR; 1 = fair.
* ``gini`` with the small-sample correction ``n / (n - 1)``: ``sum_ij |x_i - x_j| / (2 n^2 mean)``;
  all zero -> 0 (equal, not undefined).
* ``garbe`` (Howard et al. 2022): ``alpha * Gini(FMR) + (1 - alpha) * Gini(FNMR)``; 0 = fair.
* ``inequity_rate`` (NIST proposal, Howard et al.): ``(max/min FMR)^alpha * (max/min FNMR)^(1-alpha)``
  with the ratio rules above, so it is NaN when a group has zero errors and another does not.
"""

from __future__ import annotations

import numpy as np

NAN = float("nan")


def _rates(x) -> np.ndarray:
    a = np.asarray(x, dtype=float).ravel()
    return a[np.isfinite(a)]


def max_min_ratio(rates) -> float:
    r = _rates(rates)
    if r.size < 2:
        return NAN
    hi, lo = r.max(), r.min()
    if hi == 0:
        return 1.0
    return float(hi / lo) if lo > 0 else NAN


def max_min_difference(rates) -> float:
    r = _rates(rates)
    return float(r.max() - r.min()) if r.size >= 2 else NAN


def fdr(fmr, fnmr, alpha: float = 0.5) -> float:
    a, b = max_min_difference(fmr), max_min_difference(fnmr)
    return (
        float(1.0 - (alpha * a + (1.0 - alpha) * b)) if np.isfinite(a) and np.isfinite(b) else NAN
    )


def gini(rates) -> float:
    r = _rates(rates)
    n = r.size
    if n < 2:
        return NAN
    mean = r.mean()
    if mean == 0:
        return 0.0
    return float(n / (n - 1) * np.abs(r[:, None] - r[None, :]).sum() / (2 * n * n * mean))


def garbe(fmr, fnmr, alpha: float = 0.5) -> float:
    a, b = gini(fmr), gini(fnmr)
    return float(alpha * a + (1.0 - alpha) * b) if np.isfinite(a) and np.isfinite(b) else NAN


def inequity_rate(fmr, fnmr, alpha: float = 0.5) -> float:
    a, b = max_min_ratio(fmr), max_min_ratio(fnmr)
    return float(a**alpha * b ** (1.0 - alpha)) if np.isfinite(a) and np.isfinite(b) else NAN
