"""The survey's one paired contrast (humans against a system on the same trials), in one place.

Every human-versus-machine number of the survey goes through :func:`paired_contrast`, which is a thin
adapter onto the project's signed, paired contrasts (:func:`maskaudit.stats.contrasts.mask_effect`).
"""

from __future__ import annotations

import numpy as np

from maskaudit.stats.contrasts import mask_effect


def paired_contrast(
    human_correct,
    system_correct,
    trials,
    *,
    n_boot: int,
    n_perm: int,
    rng: np.random.Generator,
    level: float = 0.95,
    min_identities: int = 10,
) -> dict:
    """Human minus system accuracy on the same trials, clustered by identity (sign: human - system).

    Per identity ``a``: ``human_correct[a]`` = sum over its trials of the share of human responses that
    are correct (may be fractional), ``system_correct[a]`` = the system's correct trials,
    ``trials[a]`` = its trials. Estimate ``D = (sum_a x_a - sum_a y_a) / sum_a n_a``.

    Inference is :func:`maskaudit.stats.contrasts.mask_effect` with the two "conditions" of an
    identity being the system (variant) and the humans (reference), errors = trials - correct, so
    ``R_system - R_humans = acc_humans - acc_system``: bootstrap-t interval over identities
    (``n_boot`` replicates) and a studentised permutation p-value that swaps humans and system within
    identities (the sign-flip null; ``n_perm`` permutations). Identities with no trial do not count.

    Too few: with fewer than ``min_identities`` identities with trials (or no error by either rater)
    the estimate is still reported but ``low``, ``high`` and ``p`` are NaN and ``reason`` says why.
    Returns ``estimate``, ``low``, ``high``, ``p``, ``n_units``, ``trials``, ``reason``.
    """
    x = np.asarray(human_correct, dtype=float)
    y = np.asarray(system_correct, dtype=float)
    n = np.asarray(trials, dtype=float)
    total = n.sum()
    units = int(np.count_nonzero(n > 0))
    if total <= 0:
        return {
            "estimate": np.nan,
            "low": np.nan,
            "high": np.nan,
            "p": np.nan,
            "n_units": 0,
            "trials": 0,
            "reason": "no trials",
        }
    # errors >= 0 up to float noise of the per-identity sums
    c = mask_effect(
        np.clip(n - y, 0, None),
        n,
        np.clip(n - x, 0, None),
        n,
        n_boot=n_boot,
        n_perm=n_perm,
        rng=rng,
        level=level,
        min_identities=min_identities,
    )
    est = c.estimate if np.isfinite(c.estimate) else float((x.sum() - y.sum()) / total)
    return {
        "estimate": est,
        "low": c.ci_low,
        "high": c.ci_high,
        "p": c.p_value,
        "n_units": units,
        "trials": int(total),
        "reason": c.reason,
    }
