"""Global decision thresholds per system, fixed once on the unmasked baseline and used everywhere.

Per (system, dataset) the audit uses the system's own default threshold and the thresholds that
give configured FMRs on the **overall impostor distribution of the unmasked baseline** (every
non-mated pair of unmasked photos, each unordered pair once). Every group row of every variant is
evaluated at these same thresholds; nothing is ever tuned per group.

Threshold at an FMR target (bob.measure ``far_threshold`` semantics, accept iff ``s >= t``): with the
``n`` impostor scores sorted descending as ``d`` and ``k = floor(target * n)``, the threshold is the
smallest float above ``d[k]`` (``-inf`` when ``k >= n``), so the realised FMR is ``<= target`` even
with ties. It is **unsupported** (NaN plus a reason) when ``n < 10 / target``: too few impostors to
fix that operating point. Open-set thresholds at FPIR targets follow the same rule on the best
non-mated score of each acquired non-mated search of the baseline (a search that returns no
candidate scores ``-inf``); they are unsupported, with the reason, when the system's 1:N was not run.
"""

from __future__ import annotations

import math

import numpy as np

MIN_PER_TARGET = 10.0


def target_name(prefix: str, target: float) -> str:
    return f"{prefix}_{target:g}"


def tail_size(targets, n_upper: int) -> int:
    """How many of the highest impostor scores suffice to fix every target for ``n <= n_upper``."""
    return int(math.floor(max(targets, default=0.0) * n_upper + 1e-9)) + 2 if n_upper else 0


def threshold_from_tail(tail_desc: np.ndarray, n: int, target: float) -> tuple[float, float]:
    """``(threshold, realised rate)`` from the highest scores (descending) of ``n`` scores."""
    k = int(math.floor(target * n + 1e-9))
    if n == 0:
        return math.nan, math.nan
    if k >= n:
        return -math.inf, 1.0
    if k >= tail_desc.size:
        raise ValueError(f"tail of {tail_desc.size} scores is too short for target {target} of {n}")
    t = float(np.nextafter(np.float64(tail_desc[k]), np.inf))
    return t, float(np.count_nonzero(tail_desc >= t)) / n


def fixed_thresholds(tail_desc, n: int, targets, prefix: str = "fmr") -> list[dict]:
    rows = []
    for target in targets:
        need = int(math.ceil(MIN_PER_TARGET / target - 1e-9))
        row = {"name": target_name(prefix, target), "target": float(target), "n": int(n), "n_required": need}
        if n < need:
            row.update(similarity=math.nan, realised=math.nan, supported=False,
                       reason=f"{n} comparisons < {need} (= 10/{target:g}) needed to fix this threshold")
        else:
            t, realised = threshold_from_tail(np.asarray(tail_desc, dtype=np.float64), n, target)
            row.update(similarity=t, realised=realised, supported=True, reason="")
        rows.append(row)
    return rows


def baseline_thresholds(result: dict, source, fmr_targets, fpir_targets, probe_ok) -> dict:
    """Thresholds from a :func:`maskaudit.protocol.score.score_variant` run on the baseline."""
    verification = [{"name": "default", "target": math.nan, "n": int(result["n_impostor"]), "n_required": 0,
                     "similarity": float(source.threshold), "realised": _realised(result, source.threshold),
                     "supported": True, "reason": f"system default: {source.threshold_source}"}]
    verification += fixed_thresholds(result["tail"], result["n_impostor"], fmr_targets, "fmr")
    nonmated = (result["open_search"] == "non_mated") & probe_ok
    best = np.nan_to_num(result["open"]["best_nonmate_score"][nonmated], nan=-np.inf)
    default_fpir = float(np.count_nonzero(best >= source.threshold)) / best.size if best.size else math.nan
    identification = [{"name": "default", "target": math.nan, "n": int(best.size), "n_required": 0,
                       "similarity": float(source.threshold), "realised": default_fpir, "supported": True,
                       "reason": "system default: a candidate is returned iff its score >= the 1:1 threshold"}]
    identification += fixed_thresholds(np.sort(best)[::-1], int(best.size), fpir_targets, "fpir")
    if result.get("identification") == "not_run":  # no 1:N answers: no open-set operating point either
        for r in identification:
            r.update(similarity=math.nan, realised=math.nan, supported=False,
                     reason=f"1:N not run: {result['identification_reason']}")
    for rows in (verification, identification):
        for r in rows:
            r["similarity_raw"] = float(source.to_raw(np.array([r["similarity"]]))[0]) \
                if np.isfinite(r["similarity"]) else math.nan
    return {"system": source.system, "raw_direction": source.raw_direction,
            "reference": "every non-mated pair of the dataset's unmasked images (variant none), each once",
            "verification": verification, "identification": identification}


def _realised(result, t) -> float:
    n = result["n_impostor"]
    tail = result["tail"]
    if not n:
        return math.nan
    hits = int(np.count_nonzero(tail >= t))
    return hits / n if hits < tail.size or tail.size == n else math.nan  # NaN: beyond the kept tail


def threshold_map(thresholds: dict, section: str = "verification") -> dict[str, float]:
    """``name -> similarity`` (NaN for unsupported) of one section of a thresholds file."""
    return {r["name"]: float(r["similarity"]) for r in thresholds[section]}
