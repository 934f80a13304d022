"""Identification (1:N) rates over plain arrays, in the style of ``bob.measure``.

Scores are similarities (higher = more alike); ties count against the probe, consistent with the
verification rule "accept iff ``score >= threshold``" (:mod:`maskaudit.stats.verification`). NaN
entries are failures to acquire and are handled explicitly by each function.
"""

from __future__ import annotations

import numpy as np

NAN = float("nan")


def mate_ranks(scores, is_mate) -> np.ndarray:
    """Rank of the best-scoring mate for each probe of a (probes × gallery) similarity matrix.

    ``rank = 1 + #{non-mated scores >= best mated score}`` — ties count against the probe
    (pessimistic, consistent with accept iff ``s >= t``). NaN entries (failed enrolments or a
    failed probe) are ignored. Returns a float array; NaN for a probe with no acquired mate,
    which includes a probe whose whole row is NaN.
    """
    s = np.asarray(scores, dtype=float)
    mate = np.asarray(is_mate, dtype=bool)
    if s.ndim != 2 or s.shape != mate.shape:
        raise ValueError(f"scores {s.shape} and is_mate {mate.shape} must be equal 2-D shapes")
    ok = ~np.isnan(s)
    mated, nonmated = mate & ok, ~mate & ok
    best = np.where(mated, s, -np.inf).max(axis=1, initial=-np.inf)
    beats = np.count_nonzero(nonmated & (s >= best[:, None]), axis=1)
    return np.where(mated.any(axis=1), 1.0 + beats, np.nan)


def recognition_rate(ranks, rank: int = 1) -> float:
    """Rank-``rank`` identification rate ``#{r <= rank} / #probes``.

    NaN ranks (failed probes / probes without a mate) are misses and stay in the denominator.
    NaN if there are no probes.
    """
    r = np.asarray(ranks, dtype=float).ravel()
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    return float(np.count_nonzero(r <= rank)) / r.size if r.size else NAN
