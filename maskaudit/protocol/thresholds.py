"""Global decision thresholds per system, fixed once on the unmasked baseline and used everywhere.

Per (system, dataset) the audit uses the system's own default threshold and the thresholds that
give configured FMRs on the **overall impostor distribution of the unmasked baseline** (every
non-mated pair of unmasked photos, each unordered pair once). Every group row of every variant is
evaluated at these same thresholds; nothing is ever tuned per group.

Threshold at an FMR target (accept iff ``s >= t``; **one precision**: scores are float32 and every
threshold is a float32 number, so comparing a float32 score with it gives the same answer in
float32 and in float64, whether the score comes from memory, ``impostors.npz`` or a score file).
With the ``n`` reference scores sorted descending as ``d`` and ``k = floor(target * n)`` false
matches allowed, a cut accepting the ``m <= k`` highest scores lies between the lowest accepted
score ``b = d[m-1]`` (``+inf`` for ``m = 0``) and the highest rejected one ``a = d[m]`` with
``a < b``. The threshold is the float32 midpoint of that gap, taken only when it lies strictly
between ``a`` and ``b`` and more than one float32 ulp from each; the most permissive such cut
(largest ``m``) is used (``-inf`` when ``k >= n``). Guarantees, for the reference scores: the realised
rate ``m / n <= target`` exactly, in every precision; no reference score equals the threshold; moving
any reference score by one float32 ulp (in either direction) changes no decision, so a one-ulp
difference of a matrix product on another node cannot change the thresholds' realised rates. Two
adjacent float32 scores straddling the ideal cut cannot be separated robustly, so the cut then moves
up to the next gap (fewer accepted, never more). Scores of other comparisons (a masked variant)
are compared exactly with the same float32 threshold; one within an ulp of it can still flip.

A threshold is **unsupported** (NaN plus a reason) when ``n < 10 / target``: too few impostors to fix
that operating point. The system's default threshold is rounded to float32 too (``similarity`` in
the thresholds file is the value every comparison uses). Open-set thresholds at FPIR targets follow
the same rule on the best non-mated score of each acquired non-mated search of the baseline (a
search that returns no candidate scores ``-inf``); they are unsupported, with the reason, when the
system's 1:N was not run.

Reference scores: by default every non-mated pair of the unmasked baseline, the same impostors
the audit then evaluates FMR on (thresholds fixed and evaluated on the same impostors, so a
realised FMR at an FMR threshold is its target by construction, not an estimate). With
``protocol.calibration_share`` > 0 a seeded, identity-disjoint share of identities fixes the
thresholds and is left out of every rate (see :mod:`maskaudit.protocol.calibration`).
"""

from __future__ import annotations

import math

import numpy as np

from maskaudit.protocol.score import ReferenceTail, VariantScores

MIN_PER_TARGET = 10.0


def target_name(prefix: str, target: float) -> str:
    return f"{prefix}_{target:g}"


def tail_size(targets, n_upper: int) -> int:
    """How many of the highest impostor scores suffice to fix every target for ``n <= n_upper``."""
    return int(math.floor(max(targets, default=0.0) * n_upper + 1e-9)) + 2 if n_upper else 0


def as_float32(t: float) -> float:
    """``t`` rounded to the nearest float32 number, as a Python float (exact in float64 and JSON)."""
    return float(np.float32(t))


def _robust_between(a: np.float32, b: np.float32):
    """A float32 strictly between ``a`` and ``b`` with more than one ulp to each, or None."""
    up, down = np.float32(np.inf), np.float32(-np.inf)
    lo = np.nextafter(a, up)  # a moved up one ulp must stay below t
    hi = np.nextafter(b, down) if np.isfinite(b) else np.float32(np.finfo(np.float32).max)
    if not np.nextafter(lo, up) < hi:  # no float32 strictly between lo and hi
        return None
    mid = np.float32((np.float64(lo) + np.float64(hi)) / 2.0)
    return float(mid) if lo < mid < hi else float(np.nextafter(lo, up))


def threshold_from_tail(tail_desc: np.ndarray, n: int, target: float) -> tuple[float, float]:
    """``(threshold, realised rate)`` from the highest scores (descending) of ``n`` float32 scores (the
    module docstring states the rule and its guarantees)."""
    k = int(math.floor(target * n + 1e-9))
    if n == 0:
        return math.nan, math.nan
    if k >= n:
        return -math.inf, 1.0
    d = np.asarray(tail_desc, dtype=np.float32)
    if k >= d.size:
        raise ValueError(f"tail of {d.size} scores is too short for target {target} of {n}")
    for m in range(k, -1, -1):  # m = accepted scores; the most permissive robust cut wins
        a = d[m]
        b = d[m - 1] if m else np.float32(np.inf)
        if not a < b:  # inside a run of ties: no cut here
            continue
        t = _robust_between(a, b)
        if t is not None:
            return t, m / n
    return math.inf, 0.0  # every gap above d[k] is under two ulps: accept nothing


def fixed_thresholds(tail_desc, n: int, targets, prefix: str = "fmr") -> list[dict]:
    rows = []
    for target in targets:
        need = int(math.ceil(MIN_PER_TARGET / target - 1e-9))
        row = {
            "name": target_name(prefix, target),
            "target": float(target),
            "n": int(n),
            "n_required": need,
        }
        if n < need:
            row.update(
                similarity=math.nan,
                realised=math.nan,
                supported=False,
                reason=f"{n} comparisons < {need} (= 10/{target:g}) needed to fix this threshold",
            )
        else:
            t, realised = threshold_from_tail(np.asarray(tail_desc, dtype=np.float32), n, target)
            row.update(similarity=t, realised=realised, supported=True, reason="")
        rows.append(row)
    return rows


def baseline_thresholds(
    result: VariantScores,
    source,
    fmr_targets,
    fpir_targets,
    probe_ok,
    *,
    reference: str | None = None,
) -> dict:
    """Thresholds from a :func:`maskaudit.protocol.score.score_variant` run on the baseline; ``reference``
    describes the impostors that fixed them (:data:`REFERENCE` when None)."""
    default = as_float32(source.threshold)
    ref, found = result.reference, result.search
    verification = [
        {
            "name": "default",
            "target": math.nan,
            "n": int(ref.n_impostor),
            "n_required": 0,
            "similarity": default,
            "realised": _realised(ref, default),
            "supported": True,
            "reason": f"system default: {source.threshold_source}",
        }
    ]
    verification += fixed_thresholds(ref.tail, ref.n_impostor, fmr_targets, "fmr")
    nonmated = (found.open_search == "non_mated") & probe_ok & ref.reference_probe
    best = np.nan_to_num(found.open["best_nonmate_score"][nonmated], nan=-np.inf)
    default_fpir = float(np.count_nonzero(best >= default)) / best.size if best.size else math.nan
    identification = [
        {
            "name": "default",
            "target": math.nan,
            "n": int(best.size),
            "n_required": 0,
            "similarity": default,
            "realised": default_fpir,
            "supported": True,
            "reason": "system default: a candidate is returned iff its score >= the 1:1 threshold",
        }
    ]
    identification += fixed_thresholds(
        np.sort(best.astype(np.float32))[::-1], int(best.size), fpir_targets, "fpir"
    )
    if found.mode == "not_run":  # no 1:N answers: no open-set operating point either
        for r in identification:
            r.update(
                similarity=math.nan,
                realised=math.nan,
                supported=False,
                reason=f"1:N not run: {found.reason}",
            )
    for rows in (verification, identification):
        for r in rows:
            r["similarity_raw"] = (
                float(source.to_raw(np.array([r["similarity"]]))[0])
                if np.isfinite(r["similarity"])
                else math.nan
            )
    return {
        "system": source.system,
        "raw_direction": source.raw_direction,
        "reference": REFERENCE if reference is None else reference,
        "verification": verification,
        "identification": identification,
    }


REFERENCE = (
    "every non-mated pair of the dataset's unmasked images (variant none), each once; the audit "
    "evaluates its rates on these same impostors (no calibration split)"
)
REFERENCE_SPLIT = (
    "the non-mated pairs of the unmasked images (variant none) with both sides among the {n} "
    "calibration identities (protocol.calibration_share), each once; every rate leaves those "
    "identities out"
)


def _realised(ref: ReferenceTail, t) -> float:
    n = ref.n_impostor
    tail = ref.tail
    if not n:
        return math.nan
    hits = int(np.count_nonzero(tail >= t))
    return hits / n if hits < tail.size or tail.size == n else math.nan  # NaN: beyond the kept tail


def threshold_map(thresholds: dict, section: str = "verification") -> dict[str, float]:
    """``name -> similarity`` (NaN for unsupported) of one section of a thresholds file."""
    return {r["name"]: float(r["similarity"]) for r in thresholds[section]}
