"""Verdict sentences worded from the tables, never by hand.

A verdict is one of ``significant``, ``not_significant`` or ``too_few_samples`` and comes from a
table, read as it is:

* ``results/tables/tests.tsv`` (the predeclared tests): its ``verdict`` column, as written;
* ``results/tables/differentials.tsv`` (the worst-minus-best gap tests, until ``tests.tsv`` is
  wired in): ``significant == True`` is *significant* (Holm p < alpha and an interval excluding 0);
  a gap that could not be tested (``evidence == untested``: no p-value, fewer than two groups with
  data) is *too few samples*; everything else is *not significant*, whatever single criterion held.

:func:`sentence` turns one normalised verdict into text. The word "significant" stands on its own
only in a *significant* verdict; the others say "not significant" or "too few samples to tell".
"""

from __future__ import annotations

import pandas as pd

from maskaudit.report.sources import fmt_interval, fmt_p, fmt_signed, missing

VERDICTS = ("significant", "not_significant", "too_few_samples")
VERDICT_LABEL = {
    "significant": "significant",
    "not_significant": "not significant",
    "too_few_samples": "too few samples to tell",
}
HYPOTHESES = ("mask_effect", "mask_group_interaction", "group_difference", "colour_group_contrast")

MEASURE_LABEL = {
    "reid_fnmr": "re-identification FNMR",
    "reid_rate": "re-identification rate",
    "reid_fnmr_system": "system re-identification FNMR",
    "fnmr": "verification FNMR",
    "fnmr_system": "system verification FNMR",
    "fmr": "FMR",
    "fnir": "FNIR",
    "fnir_system": "system FNIR",
    "fpir": "FPIR",
    "rank1": "rank-1 identification rate",
    "rank1_system": "system rank-1 rate",
    "fta": "failure to acquire",
}


def measure_label(measure: str) -> str:
    return MEASURE_LABEL.get(measure, measure)


def threshold_label(threshold: str) -> str:
    """``fmr_0.001`` -> ``the FMR = 0.001 threshold``; ``default`` -> ``the system's default threshold``."""
    if threshold in ("default",):
        return "the system's default threshold"
    if threshold in ("-", "", "nan"):
        return "no threshold"
    kind, _, target = str(threshold).partition("_")
    return f"the {kind.upper()} = {target} threshold" if target else str(threshold)


def from_tests(frame: pd.DataFrame) -> list[dict]:
    """Normalised verdicts from ``tests.tsv`` rows (the column contract of the predeclared tests)."""
    out = []
    for _, r in frame.iterrows():
        verdict = str(r["verdict"])
        if verdict not in VERDICTS:
            raise ValueError(
                f"tests.tsv line {r['_line']}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}"
            )
        out.append(
            {
                "table": "tests",
                "line": int(r["_line"]),
                "model": str(r["model"]),
                "dataset": str(r["dataset"]),
                "family": str(r["family"]),
                "role": str(r["role"]),
                "hypothesis": str(r["hypothesis"]),
                "variant": str(r["variant"]),
                "attribute": str(r["attribute"]),
                "group_a": str(r["group_a"]),
                "group_b": str(r["group_b"]),
                "comparison": str(r["comparison"]),
                "measure": str(r["measure"]),
                "threshold": str(r["threshold"]),
                "estimate": r["estimate"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "p": r["p_value"],
                "p_holm": r["p_holm"],
                "min_attainable_p": r["min_attainable_p"],
                "verdict": verdict,
                "reason": "" if missing(r["reason"]) else str(r["reason"]),
                "n_a": r["n_identities_a"],
                "n_b": r["n_identities_b"],
            }
        )
    return out


def differential_verdict(row) -> str:
    """The verdict a ``differentials.tsv`` row states (see the module docstring)."""
    if str(row["significant"]) == "True":
        return "significant"
    if str(row["evidence"]) == "untested" or missing(row["p_holm"]):
        return "too_few_samples"
    return "not_significant"


def _differential_reason(row) -> str:
    if str(row["evidence"]) in ("permutation_only", "interval_only"):
        which = "the permutation test" if row["evidence"] == "permutation_only" else "the interval"
        return f"only {which} excluded no difference; both are required"
    if differential_verdict(row) != "too_few_samples":
        return ""
    n = row["n_groups"]
    if not missing(n) and float(n) < 2:
        return f"{float(n):.0f} {row['attribute']} group with data; a gap needs two"
    return "no permutation p-value (the gap could not be formed in enough resamples)"


def from_differentials(frame: pd.DataFrame) -> list[dict]:
    """Normalised verdicts from ``differentials.tsv`` rows: the worst-minus-best gap of each error rate."""
    out = []
    for _, r in frame.iterrows():
        out.append(
            {
                "table": "differentials",
                "line": int(r["_line"]),
                "model": str(r["model"]),
                "dataset": str(r["dataset"]),
                "family": str(r["attribute"]),
                "role": "primary",
                "hypothesis": "group_difference",
                "variant": str(r["variant"]),
                "attribute": str(r["attribute"]),
                "group_a": str(r["worst_group"]),
                "group_b": str(r["best_group"]),
                "comparison": str(r["comparison"]),
                "measure": str(r["measure"]),
                "threshold": str(r["threshold"]),
                "estimate": r["difference"],
                "ci_low": r["difference_low"],
                "ci_high": r["difference_high"],
                "p": r["p_permutation"],
                "p_holm": r["p_holm"],
                "min_attainable_p": float("nan"),
                "verdict": differential_verdict(r),
                "reason": _differential_reason(r),
                "n_a": float("nan"),
                "n_b": float("nan"),
            }
        )
    return out


def _pair(v: dict) -> str:
    a, b = v["group_a"], v["group_b"]
    if a and a == b:
        return f"the {v['attribute']} groups (tied: the worst and the best group are the same)"
    if a and b and a != "nan" and b != "nan":
        return f"{a} and {b} ({v['attribute']})"
    if a and a != "nan":
        return f"{a} ({v['attribute']})"
    return f"the {v['attribute']} groups"


def subject(v: dict) -> str:
    """What was tested, without the verdict: hypothesis, mask variant, measure and threshold."""
    m = f"{measure_label(v['measure'])} at {threshold_label(v['threshold'])}"
    h = v["hypothesis"]
    if h == "mask_effect":
        who = _pair(v) if v["group_a"] not in ("", "all", "nan") else "everyone"
        return f"the {v['variant']} mask's effect on {m} for {who}"
    if h == "mask_group_interaction":
        return f"the {v['variant']} mask's effect on {m}, {_pair(v)}"
    if h == "colour_group_contrast":
        return f"the {v['variant']} mask colour's effect on {m}, {_pair(v)}"
    gap = "worst minus best group" if v["table"] == "differentials" else "difference"
    return f"under {v['variant']}, the {gap} in {m}, {_pair(v)}"


def evidence(v: dict) -> str:
    """Estimate, interval and p-values as text (what the verdict rests on)."""
    parts = [fmt_signed(v["estimate"])]
    ci = fmt_interval(v["ci_low"], v["ci_high"], signed=True)
    if ci:
        parts.append(ci)
    p = f"p = {fmt_p(v['p'])}" + (
        "" if missing(v["p_holm"]) else f", Holm-adjusted p = {fmt_p(v['p_holm'])}"
    )
    return " ".join(parts) + "; " + p


def sentence(v: dict) -> str:
    """One verdict as a sentence; the verdict words come from ``v['verdict']`` only."""
    s = subject(v)
    s = s[0].upper() + s[1:]
    verdict = v["verdict"]
    if verdict == "significant":
        return f"{s}: {evidence(v)}. Verdict: significant."
    if verdict == "not_significant":
        why = f" ({v['reason']})" if v["reason"] else ""
        return f"{s}: {evidence(v)}. Verdict: not significant{why}."
    why = f" ({v['reason']})" if v["reason"] else ""
    if not missing(v.get("min_attainable_p")):
        why += f"; the smallest attainable p-value is {fmt_p(v['min_attainable_p'])}"
    return f"{s}: too few samples to tell{why}."


def counts(verdicts: list[dict]) -> dict:
    return {k: sum(v["verdict"] == k for v in verdicts) for k in VERDICTS}
