"""Verification error rates over plain arrays, in the style of ``bob.measure``.

Scores are similarities (higher = more alike). ``negatives`` are impostor / non-mated scores,
``positives`` genuine / mated scores, both 1-D float arrays.

Conventions used by every function:

* **Acceptance rule: a comparison is accepted iff ``score >= threshold``** (ties are accepts).
* An empty score set yields ``float("nan")`` for the rate that depends on it; nothing raises or
  divides by zero because of emptiness.
* NaN scores mean failure-to-acquire (FtA). The metric functions work on *acquired* scores and
  raise ``ValueError`` on NaN; use :func:`split_fta` first. Only :func:`split_fta` and
  :func:`system_rates` handle NaN explicitly (rank-based 1:N rates: :mod:`maskaudit.stats.identification`;
  binomial intervals: :mod:`maskaudit.stats.intervals`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

NAN = float("nan")


def _scores(x, name: str) -> np.ndarray:
    """1-D float array of acquired scores; raise ValueError on NaN or wrong shape."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN (failure-to-acquire); call split_fta first")
    return arr


def _rate(count, total) -> float:
    return float(count) / total if total else NAN


def split_fta(scores) -> tuple[np.ndarray, int]:
    """Split ``scores`` into acquired (non-NaN) scores and the failure-to-acquire count.

    Returns ``(scores[~isnan(scores)], #{isnan(scores)})``. ±inf are kept as acquired scores.
    """
    arr = np.asarray(scores, dtype=float).ravel()
    fta = np.isnan(arr)
    return arr[~fta], int(fta.sum())


def farfrr(negatives, positives, threshold: float) -> tuple[float, float]:
    """``FMR = #{n >= t}/|N|`` and ``FNMR = #{p < t}/|P|`` (accept iff ``s >= t``).

    A score equal to the threshold is accepted: it counts as a false match for negatives and as
    a correct match for positives. Each rate is NaN when its set is empty.
    """
    neg, pos = _scores(negatives, "negatives"), _scores(positives, "positives")
    if np.isnan(threshold):
        raise ValueError("threshold is NaN")
    return _rate(np.count_nonzero(neg >= threshold), neg.size), _rate(
        np.count_nonzero(pos < threshold), pos.size
    )


def _counts_at(neg_sorted, pos_sorted, thresholds):
    """Vectorised ``#{n >= t}`` and ``#{p < t}`` for ascending-sorted scores."""
    fm = neg_sorted.size - np.searchsorted(neg_sorted, thresholds, side="left")
    fnm = np.searchsorted(pos_sorted, thresholds, side="left")
    return fm, fnm


def eer_threshold(negatives, positives) -> float:
    """Threshold θ* minimising ``|FMR(θ) − FNMR(θ)|`` (accept iff ``s >= θ``).

    Candidates are the unique observed scores of both sets plus ``+inf``. **Tie rule:** when several
    candidates reach the smallest ``|FMR − FNMR|``, the one with the smallest ``FMR + FNMR`` wins,
    and among those the smallest threshold. Comparisons are exact on integer counts
    (``|#fm·|P| − #fnm·|N||`` and ``#fm·|P| + #fnm·|N|``), so float rounding cannot decide a tie.
    This tie rule is this project's, stated so results are reproducible; bob.measure's
    ``eer_threshold`` does not document one and may pick another of the tied thresholds (the EER
    itself can then differ by at most the tied rates' spread). NaN if either set is empty.
    """
    neg, pos = np.sort(_scores(negatives, "negatives")), np.sort(_scores(positives, "positives"))
    if neg.size == 0 or pos.size == 0:
        return NAN
    cand = np.append(np.unique(np.concatenate([neg, pos])), np.inf)
    fm, fnm = _counts_at(neg, pos, cand)
    a, b = fm.astype(np.int64) * pos.size, fnm.astype(np.int64) * neg.size
    gap, total = np.abs(a - b), a + b
    best = np.flatnonzero(gap == gap.min())
    # argmin: first (= smallest threshold) on equal sums
    return float(cand[best[np.argmin(total[best])]])


def eer(negatives, positives) -> float:
    """Equal error rate ``(FMR(θ*) + FNMR(θ*)) / 2`` at θ* = :func:`eer_threshold`.

    Accept iff ``s >= θ*``. NaN if either set is empty.
    """
    t = eer_threshold(negatives, positives)
    if np.isnan(t):
        return NAN
    fmr, fnmr = farfrr(negatives, positives, t)
    return (fmr + fnmr) / 2.0


def fmr_threshold(negatives, fmr_target: float) -> float:
    """Most permissive threshold whose *realised* FMR on ``negatives`` is ``<= fmr_target``.

    Same semantics as bob's ``far_threshold``. With ``d`` the negatives sorted descending,
    ``n = |N|`` and ``k = floor(fmr_target·n + 1e-9)`` (the number of false matches allowed):

    * ``k >= n``: return ``-inf`` (everything may be accepted);
    * otherwise return ``nextafter(d[k], +inf)``, the smallest float above ``d[k]``. Because
      acceptance is ``s >= t``, every negative tied with ``d[k]`` is rejected, so the realised
      FMR is ``#{n > d[k]}/n <= k/n <= fmr_target`` and may be below the target when ties
      straddle position ``k``. (A ``+inf`` negative cannot be rejected by any finite threshold.)

    NaN if there are no negatives; ValueError if ``fmr_target`` is outside ``[0, 1]``.

    This is the float64 reference rule for plain arrays, compared in float64. The workflow's
    thresholds come from :mod:`maskaudit.protocol.thresholds`: float32 numbers strictly inside a gap
    of the float32 scores (a float64 ``nextafter`` threshold compared with float32 scores rounds back
    onto ``d[k]`` and counts its ties as false matches; issue 15).
    """
    neg = _scores(negatives, "negatives")
    if not 0.0 <= fmr_target <= 1.0:
        raise ValueError(f"fmr_target must be in [0, 1], got {fmr_target}")
    if neg.size == 0:
        return NAN
    d = np.sort(neg)[::-1]
    k = int(np.floor(fmr_target * neg.size + 1e-9))
    if k >= neg.size:
        return float("-inf")
    return float(np.nextafter(d[k], np.inf))


def fnmr_at_fmr(negatives, positives, fmr_target: float) -> float:
    """``FNMR = #{p < t}/|P|`` at ``t = fmr_threshold(negatives, fmr_target)`` (accept iff
    ``s >= t``). NaN if either set is empty."""
    t = fmr_threshold(negatives, fmr_target)
    pos = _scores(positives, "positives")
    if np.isnan(t):
        return NAN
    return _rate(np.count_nonzero(pos < t), pos.size)


def roc_auc(negatives, positives) -> float:
    """Area under the ROC: ``P(p > n) + 0.5·P(p == n)`` (Mann–Whitney U / (|N|·|P|)).

    Computed from mid-ranks of the pooled scores, ``U = Σ rank(p) − |P|(|P|+1)/2``, in
    O((n+m) log(n+m)); ties between a positive and a negative count one half. NaN if either set
    is empty.
    """
    neg, pos = _scores(negatives, "negatives"), _scores(positives, "positives")
    n, m = neg.size, pos.size
    if n == 0 or m == 0:
        return NAN
    ranks = rankdata(np.concatenate([pos, neg]), method="average")
    u = ranks[:m].sum() - m * (m + 1) / 2.0
    return float(u / (n * m))


def roc_curve(negatives, positives) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points ``(fmr, tmr, thresholds)`` for plotting.

    ``thresholds`` = ``+inf`` followed by the unique observed scores in descending order;
    ``fmr[i] = #{n >= t_i}/|N|`` and ``tmr[i] = #{p >= t_i}/|P|`` (accept iff ``s >= t``), so the
    curve starts at (0, 0) and ends at (1, 1). A rate array is all NaN when its set is empty.
    """
    neg, pos = np.sort(_scores(negatives, "negatives")), np.sort(_scores(positives, "positives"))
    thr = np.concatenate([[np.inf], np.unique(np.concatenate([neg, pos]))[::-1]])
    fm, fnm = _counts_at(neg, pos, thr)
    fmr = fm / neg.size if neg.size else np.full(thr.size, np.nan)
    tmr = (pos.size - fnm) / pos.size if pos.size else np.full(thr.size, np.nan)
    return fmr, tmr, thr


def system_rates(
    fmr: float, fnmr: float, fta_negatives: float, fta_positives: float
) -> tuple[float, float]:
    """System-level ``FAR = FMR·(1 − FtA_neg)`` and ``FRR = FtA_pos + FNMR·(1 − FtA_pos)``.

    FtA_* are failure-to-acquire *rates* in [0, 1] (ValueError otherwise); FMR/FNMR are the
    algorithm rates at some threshold (accept iff ``s >= t``) on acquired scores. When every
    comparison of a kind failed the algorithm rate is NaN, yet the system rate is defined:
    ``FAR = 0`` if ``fta_negatives == 1`` and ``FRR = 1`` if ``fta_positives == 1``. Otherwise NaN
    propagates.
    """
    for name, v in (("fta_negatives", fta_negatives), ("fta_positives", fta_positives)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be a rate in [0, 1], got {v}")
    far = 0.0 if fta_negatives == 1 else float(fmr) * (1.0 - fta_negatives)
    frr = 1.0 if fta_positives == 1 else fta_positives + float(fnmr) * (1.0 - fta_positives)
    return float(far), float(frr)
