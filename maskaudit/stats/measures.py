"""Every measure of one variant as identity-level counts (the list: :mod:`maskaudit.tables`).

Each measure is a :class:`maskaudit.stats.rates.Counts`: errors and trials per probe identity (1-D)
or per identity pair (2-D, impostors), at one global threshold (``-`` for threshold-free ones).

Failure accounting (ISO/IEC 19795-1; who is charged: :mod:`maskaudit.protocol.fta`):

* **acquired only** (``reid_fnmr``, ``fnmr``, ``fmr``, ``rank{r}``, ``fnir``, ``fpir``; the
  ``*_acquired`` names are the same counts, kept for compatibility): a comparison or search with a
  failure on either side is no trial. ``reid_rate_acquired = 1 - reid_fnmr``.
* **system level** (``*_system``): the system's own failures to acquire or enrol (``model_*``,
  ``vendor_*``) are errors (a false non-match, a miss; on the impostor side a trial that is never a
  false match, ``FAR = FMR (1 - FTA)``), pipeline failures (``dataset``, ``mask_*``) are no trials.
  A mated search whose every gallery mate failed enrolment (``search = mated_unenrolled``) is a miss
  of the system when a mate failed with a system origin and no trial otherwise; it is never a
  non-mated search. ``reid_rate = 1 - reid_fnmr_system``.
* with the identity-disjoint calibration split (``impostors.npz`` ``calibration``), every count
  leaves out the calibration identities (:mod:`maskaudit.protocol.calibration`).
* **pipeline failures** beside them: ``fta_pipeline`` (dataset + mask) and ``fta_<origin>`` over probe
  images; ``fta_system`` = model + vendor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.protocol.fta import ORIGINS, PIPELINE_ORIGINS, SYSTEM_ORIGINS
from maskaudit.stats.rates import Counts, coo_matrix, from_rows

NO_THRESHOLD = "-"
# error measures compared across groups (differentials, tests, gap changes)
ERROR_MEASURES = ("reid_fnmr", "fnmr", "fmr", "fnir")


class Measures:
    """Counts of every (comparison, measure, threshold) of one variant."""

    def __init__(self):
        self.items: list[tuple[str, str, str, float, bool, Counts]] = []

    def add(self, comparison, measure, threshold, value, success, counts):
        self.items.append((comparison, measure, threshold, value, success, counts))


def _charged(frame) -> tuple[np.ndarray, np.ndarray]:
    """``(system, pipeline)``: rows whose failure is the system's own / the audit pipeline's."""
    origin = frame.fta_origin.fillna("").astype(str).to_numpy()
    return np.isin(origin, SYSTEM_ORIGINS), np.isin(origin, PIPELINE_ORIGINS)


def variant_measures(
    scores: dict, codes: dict, n: int, ver_thresholds: dict, id_thresholds: dict, rank_k: int
) -> Measures:
    """``scores``: ``reid``, ``verification``, ``identification`` frames and ``impostors`` arrays.

    Decisions are recomputed from the stored float32 scores with the same rule as the score files'
    ``decision`` column (accept iff ``score >= threshold``, both float32 numbers), so they agree exactly.
    """
    out = Measures()
    reid, ver, ident, imp = (
        scores["reid"],
        scores["verification"],
        scores["identification"],
        scores["impostors"],
    )
    supported = {k: v for k, v in ver_thresholds.items() if np.isfinite(v)}

    r_code = codes["reid"]
    r_failed = (reid.decision == "fta").to_numpy()
    r_counted = (reid.decision != "not_compared").to_numpy()
    r_system, r_pipeline = _charged(reid)
    r_score = reid.score.to_numpy(dtype=float)
    mated = (ver.comparison == "mated").to_numpy()
    v_code = codes["verification"][mated]
    v_failed = (ver.decision == "fta").to_numpy()[mated]
    v_counted = (ver.decision != "not_compared").to_numpy()[mated]
    v_pipeline = _charged(ver)[1][mated]
    v_score = ver.score.to_numpy(dtype=float)[mated]
    f_row = imp["fm_threshold"]
    names = list(imp["threshold_name"])
    trials = imp["trials"].astype(float)
    sys_failures = imp["failures_system"].astype(float) if "failures_system" in imp else None
    for name, t in supported.items():
        with np.errstate(invalid="ignore"):
            r_rej = r_failed | (r_score < t)
            v_rej = v_failed | (v_score < t)
        r_system_trial = r_counted & ~r_pipeline
        out.add(
            "reidentification",
            "reid_rate",
            name,
            t,
            True,
            from_rows(r_code, n, r_rej, r_system_trial),
        )
        out.add(
            "reidentification",
            "reid_rate_acquired",
            name,
            t,
            True,
            from_rows(r_code, n, r_rej, r_counted & ~r_failed),
        )
        out.add(
            "reidentification",
            "reid_fnmr",
            name,
            t,
            False,
            from_rows(r_code, n, r_rej, r_counted & ~r_failed),
        )
        out.add(
            "reidentification",
            "reid_fnmr_system",
            name,
            t,
            False,
            from_rows(r_code, n, r_rej, r_system_trial),
        )
        out.add(
            "verification",
            "fnmr",
            name,
            t,
            False,
            from_rows(v_code, n, v_rej, v_counted & ~v_failed),
        )
        out.add(
            "verification",
            "fnmr_system",
            name,
            t,
            False,
            from_rows(v_code, n, v_rej, v_counted & ~v_pipeline),
        )
        k = names.index(name)
        sel = f_row == k
        fm = coo_matrix(n, imp["fm_probe"][sel], imp["fm_ref"][sel], imp["fm_count"][sel])
        out.add("verification", "fmr", name, t, False, Counts(fm, trials))
        # a system failure is a trial, never a false match (FAR = FMR (1 - FTA))
        if sys_failures is not None:
            out.add("verification", "fmr_system", name, t, False, Counts(fm, trials + sys_failures))
    failures = imp["failures"].astype(float)
    out.add(
        "verification",
        "fta_impostor",
        NO_THRESHOLD,
        np.nan,
        False,
        Counts(failures, trials + failures),
    )

    i_code = codes["identification"]
    i_failed = (ident.fta_reason.astype(str) != "").to_numpy()
    i_system, i_pipeline = _charged(ident)
    charge = (
        ident["unenrolled_charge"].astype(str).to_numpy()
        if "unenrolled_charge" in ident
        else np.full(len(ident), "")
    )
    closed = (ident.search == "mated").to_numpy()
    # a mated search whose every mate failed the system's enrolment: a miss of the system
    closed_system = (
        closed | ((ident.search == "mated_unenrolled").to_numpy() & (charge == "system"))
    ) & ~i_pipeline
    ranks = ident.mate_rank.to_numpy(dtype=float)
    for r in range(1, rank_k + 1):  # the CMC, point by point
        with np.errstate(invalid="ignore"):
            miss = ~(ranks <= r)
        out.add(
            "identification",
            f"rank{r}",
            NO_THRESHOLD,
            np.nan,
            True,
            from_rows(i_code, n, miss, closed & ~i_failed),
        )
        out.add(
            "identification",
            f"rank{r}_acquired",
            NO_THRESHOLD,
            np.nan,
            True,
            from_rows(i_code, n, miss, closed & ~i_failed),
        )
        out.add(
            "identification",
            f"rank{r}_system",
            NO_THRESHOLD,
            np.nan,
            True,
            from_rows(i_code, n, miss, closed_system),
        )
    o_mated = (ident.open_search == "mated").to_numpy()
    o_mated_system = (
        o_mated | ((ident.open_search == "mated_unenrolled").to_numpy() & (charge == "system"))
    ) & ~i_pipeline
    o_nonmated = (ident.open_search == "non_mated").to_numpy()  # not_run searches are neither
    o_rank = ident.open_mate_rank.to_numpy(dtype=float)
    o_mate = ident.open_mate_score.to_numpy(dtype=float)
    o_non = ident.open_best_nonmate_score.to_numpy(dtype=float)
    for name, t in id_thresholds.items():
        if not np.isfinite(t):
            continue
        with np.errstate(invalid="ignore"):
            miss = ~((o_rank == 1) & (o_mate >= t))
            false_pos = o_non >= t
        out.add(
            "identification",
            "fnir",
            name,
            t,
            False,
            from_rows(i_code, n, miss, o_mated & ~i_failed),
        )
        out.add(
            "identification",
            "fnir_acquired",
            name,
            t,
            False,
            from_rows(i_code, n, miss, o_mated & ~i_failed),
        )
        out.add(
            "identification",
            "fnir_system",
            name,
            t,
            False,
            from_rows(i_code, n, miss, o_mated_system),
        )
        out.add(
            "identification",
            "fpir",
            name,
            t,
            False,
            from_rows(i_code, n, false_pos, o_nonmated & ~i_failed),
        )
        out.add(
            "identification",
            "fpir_system",
            name,
            t,
            False,
            from_rows(i_code, n, false_pos, o_nonmated & ~i_pipeline),
        )

    origin = ident.fta_origin.astype(str).to_numpy()
    everyone = np.ones(len(ident), bool)
    out.add(
        "acquisition", "fta", NO_THRESHOLD, np.nan, False, from_rows(i_code, n, i_failed, everyone)
    )
    out.add(
        "acquisition",
        "fta_system",
        NO_THRESHOLD,
        np.nan,
        False,
        from_rows(i_code, n, i_system, everyone),
    )
    out.add(
        "acquisition",
        "fta_pipeline",
        NO_THRESHOLD,
        np.nan,
        False,
        from_rows(i_code, n, i_pipeline, everyone),
    )
    for o in ORIGINS:
        out.add(
            "acquisition",
            f"fta_{o}",
            NO_THRESHOLD,
            np.nan,
            False,
            from_rows(i_code, n, origin == o, everyone),
        )
    calib = np.asarray(imp["calibration"], bool) if "calibration" in imp else np.zeros(n, bool)
    if calib.any():  # identity-disjoint calibration split: those identities fixed the thresholds
        out.items = [(*item[:5], audit_only(item[5], ~calib)) for item in out.items]
    return out


def audit_only(counts: Counts, audit: np.ndarray) -> Counts:
    """``counts`` without any comparison that involves a non-audit identity (on either side for 2-D)."""
    w = audit.astype(float)
    if counts.pairwise:
        w = np.outer(w, w)
    return Counts(counts.errors * w, counts.trials * w)


def probe_codes(scores: dict, identities) -> dict:
    code = {x: k for k, x in enumerate(identities)}
    return {
        "reid": scores["reid"].probe_subject.astype(str).map(code).to_numpy(),
        "verification": scores["verification"].probe_subject.astype(str).map(code).to_numpy(),
        "identification": scores["identification"].probe_subject.astype(str).map(code).to_numpy(),
    }


def identification_note(ident: pd.DataFrame) -> str:
    """``"1:N not run: <reason>"`` when a comparison-only system's identification was not run, else ``""``."""
    if (
        "identification_source" not in ident
        or not (ident.identification_source.astype(str) == "not_run").any()
    ):
        return ""
    reasons = sorted(
        {
            str(r)
            for r in ident.get("identification_reason", pd.Series(dtype=str)).dropna()
            if str(r)
        }
    )
    return "1:N not run: " + ("; ".join(reasons) or "no reason recorded")
