"""The survey's one paired contrast (humans against a system on the same trials), in one place.

The statistics engineer's ``maskaudit/stats/contrasts.py`` will hold the project's signed, paired
tests; until then every human-versus-machine number of the survey goes through
:func:`paired_contrast` only, so repointing it is a one-function change.
"""

from __future__ import annotations

import numpy as np

from maskaudit.stats.bootstrap import interval, ratio_1d
from maskaudit.stats.permutation import p_value


def paired_contrast(differences, trials, weights: np.ndarray, n_perm: int, rng: np.random.Generator,
                    level: float = 0.95) -> dict:
    """Mean paired difference over trials, clustered by identity.

    ``differences[a] = sum over identity a's trials t of (x_t - y_t)`` (e.g. human accuracy on the
    trial minus the system's 0/1 correctness), ``trials[a]`` = its number of trials. Estimate
    ``D = sum_a d_a / sum_a n_a``. Interval: percentile interval of ``sum w_a d_a / sum w_a n_a`` over
    the identity-bootstrap ``weights`` ``(B, n)``. Test of ``H0: no difference`` (x and y exchangeable
    within each identity): sign flips of whole identities, ``D* = sum s_a d_a / sum n_a`` with
    ``s_a = +-1``; two-sided ``p = (1 + #{|D*| >= |D|}) / (1 + n_perm)``. Identities with no trial
    do not count. Returns ``estimate``, ``low``, ``high``, ``p``, ``n_units``, ``trials``.
    """
    d = np.asarray(differences, dtype=float)
    n = np.asarray(trials, dtype=float)
    total = n.sum()
    units = int(np.count_nonzero(n > 0))
    if total <= 0:
        return {"estimate": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "n_units": 0, "trials": 0}
    est = float(d.sum() / total)
    low, high = interval(ratio_1d(weights, d, n), level) if units >= 2 else (np.nan, np.nan)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, d.size))
    p = p_value(abs(est), np.abs(signs @ d) / total) if units >= 2 else np.nan
    return {"estimate": est, "low": low, "high": high, "p": p, "n_units": units, "trials": int(total)}
