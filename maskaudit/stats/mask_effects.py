"""Mask effects: masked minus unmasked per group, and the change of the max - min group gap.

* ``masked_minus_unmasked``: ``R_g,variant - R_g,none`` per group with a paired identity-bootstrap
  interval (the same resampled identities in both conditions); no interval below ``min_identities``
  identities contributing. Signed tests with calibrated intervals are in the ``tests`` table.
* ``gap_change``: ``(max - min over groups, masked) - (max - min, unmasked)``, a **description only**.
  Max - min picks the worst and best groups on the data and grows with noise, more so where rates
  are higher (masked), so its change is positive even when no group differs; it carries no
  interval. ``null_expectation`` beside it is its mean when the group labels are shuffled among
  identities (the same shuffles in both conditions): read ``value`` against it. The signed,
  paired mask x group interaction is the ``tests`` table's ``mask_group_interaction``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats.bootstrap import interval
from maskaudit.stats.gaps import permuted_rates
from maskaudit.stats.measures import ERROR_MEASURES


def _gap(values) -> float:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.max() - v.min()) if v.size >= 2 else np.nan


def _perm_gaps(rates) -> np.ndarray:
    fin = np.isfinite(rates)
    with np.errstate(invalid="ignore"):
        hi = np.where(fin, rates, -np.inf).max(1)
        lo = np.where(fin, rates, np.inf).min(1)
    return np.where(fin.sum(1) >= 2, hi - lo, np.nan)


def mask_effects_table(
    variants,
    rates,
    reps,
    groups,
    labels,
    level,
    measures_by_variant=None,
    perm_labels=None,
    *,
    min_identities: int = 2,
    perm_store: dict | None = None,
) -> pd.DataFrame:
    """``perm_store``: permuted group rates already computed (:func:`maskaudit.stats.gaps.permuted_rates`)."""
    store = {} if perm_store is None else perm_store
    rows = []
    masked = [v for v in variants if v["id"] != "none"]
    if not masked or "none" not in {v["id"] for v in variants}:
        return pd.DataFrame(rows)
    keys = rates[rates.variant == "none"]
    keys = keys[keys.measure != "eer_group_own_threshold"][
        ["attribute", "group", "comparison", "measure", "threshold"]
    ].drop_duplicates()
    for variant in masked:
        vid = variant["id"]
        base = {
            **labels,
            "variant": vid,
            "mask_kind": variant["kind"],
            "mask_colour": variant["colour"],
        }
        for k in keys.itertuples(index=False):
            a = reps.get((vid, k.attribute, k.group, k.measure, k.threshold))
            b = reps.get(("none", k.attribute, k.group, k.measure, k.threshold))
            if a is None or b is None:
                continue
            enough = min(a[2], b[2]) >= max(2, min_identities)
            lo, hi = interval(a[1] - b[1], level) if enough else (np.nan, np.nan)
            rows.append(
                {
                    **base,
                    "effect": "masked_minus_unmasked",
                    "attribute": k.attribute,
                    "group": k.group,
                    "comparison": k.comparison,
                    "measure": k.measure,
                    "threshold": k.threshold,
                    "masked": a[0],
                    "unmasked": b[0],
                    "value": a[0] - b[0],
                    "ci_low": lo,
                    "ci_high": hi,
                    "null_expectation": np.nan,
                }
            )
    if measures_by_variant is None or perm_labels is None:
        return pd.DataFrame(rows)
    counts = {
        (vid, measure, thr): (comparison, c)
        for vid, meas in measures_by_variant.items()
        for comparison, measure, thr, _, _, c in meas.items
        if measure in ERROR_MEASURES
    }
    for attribute, (names, _, permuted) in perm_labels.items():
        for (vid, measure, thr), (comparison, c1) in counts.items():
            if vid == "none" or ("none", measure, thr) not in counts or len(names) < 2:
                continue
            c0 = counts[("none", measure, thr)][1]
            r1 = [reps.get((vid, attribute, g, measure, thr)) for g in names]
            r0 = [reps.get(("none", attribute, g, measure, thr)) for g in names]
            if any(r is None for r in r1 + r0):
                continue
            g1, g0 = _gap([r[0] for r in r1]), _gap([r[0] for r in r0])
            null = _perm_gaps(
                permuted_rates(store, (vid, attribute, measure, thr), c1, permuted, len(names))
            ) - _perm_gaps(
                permuted_rates(store, ("none", attribute, measure, thr), c0, permuted, len(names))
            )
            variant = next(v for v in masked if v["id"] == vid)
            rows.append(
                {
                    **labels,
                    "variant": vid,
                    "mask_kind": variant["kind"],
                    "mask_colour": variant["colour"],
                    "effect": "gap_change",
                    "attribute": attribute,
                    "group": "max-min gap",
                    "comparison": comparison,
                    "measure": measure,
                    "threshold": thr,
                    "masked": g1,
                    "unmasked": g0,
                    "value": g1 - g0,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "null_expectation": float(np.nanmean(null))
                    if np.isfinite(null).any()
                    else np.nan,
                }
            )
    return pd.DataFrame(rows)
