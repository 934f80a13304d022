"""Exact binomial intervals for an error rate ``errors / trials`` (plain numbers in and out).

The identity-bootstrap interval of a grouped rate is :func:`maskaudit.stats.bootstrap.interval`.
"""

from __future__ import annotations

from scipy.stats import beta

NAN = float("nan")


def clopper_pearson(errors: int, trials: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Clopper–Pearson) ``1 − alpha`` binomial interval for ``errors / trials``.

    ``lower = Beta.ppf(alpha/2; x, n − x + 1)`` (0 if x == 0),
    ``upper = Beta.ppf(1 − alpha/2; x + 1, n − x)`` (1 if x == n). ``(nan, nan)`` if n == 0.
    """
    x, n = int(errors), int(trials)
    if n < 0 or not 0 <= x <= max(n, 0) or not 0.0 < alpha < 1.0:
        raise ValueError(f"need 0 <= errors <= trials and 0 < alpha < 1, got {x}, {n}, {alpha}")
    if n == 0:
        return NAN, NAN
    lo = 0.0 if x == 0 else float(beta.ppf(alpha / 2, x, n - x + 1))
    hi = 1.0 if x == n else float(beta.ppf(1 - alpha / 2, x + 1, n - x))
    return lo, hi
