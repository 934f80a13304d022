"""Mask effects: masked minus unmasked per group, the change of the group gap, and the interaction."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats.bootstrap import interval
from maskaudit.stats.groups import known_groups
from maskaudit.stats.measures import ERROR_MEASURES


def _gap(values) -> float:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.max() - v.min()) if v.size >= 2 else np.nan


def _gap_reps(reps_matrix) -> np.ndarray:
    r = np.asarray(reps_matrix, float)  # (groups, B)
    fin = np.isfinite(r)
    enough = fin.sum(0) >= 2
    with np.errstate(invalid="ignore"):
        hi = np.where(fin, r, -np.inf).max(0)
        lo = np.where(fin, r, np.inf).min(0)
    return np.where(enough, hi - lo, np.nan)


def mask_effects_table(variants, rates, reps, groups, labels, level) -> pd.DataFrame:
    rows = []
    masked = [v for v in variants if v["id"] != "none"]
    if not masked or "none" not in {v["id"] for v in variants}:
        return pd.DataFrame(rows)
    keys = rates[rates.variant == "none"]
    keys = keys[keys.measure != "eer_group_own_threshold"][["attribute", "group", "comparison", "measure",
                                                           "threshold"]].drop_duplicates()
    for variant in masked:
        vid = variant["id"]
        base = {**labels, "variant": vid, "mask_kind": variant["kind"], "mask_colour": variant["colour"]}
        for k in keys.itertuples(index=False):
            a = reps.get((vid, k.attribute, k.group, k.measure, k.threshold))
            b = reps.get(("none", k.attribute, k.group, k.measure, k.threshold))
            if a is None or b is None:
                continue
            lo, hi = interval(a[1] - b[1], level)
            rows.append({**base, "effect": "masked_minus_unmasked", "attribute": k.attribute, "group": k.group,
                         "comparison": k.comparison, "measure": k.measure, "threshold": k.threshold,
                         "masked": a[0], "unmasked": b[0], "value": a[0] - b[0], "ci_low": lo, "ci_high": hi})
    gap_keys = keys[keys.measure.isin(ERROR_MEASURES) & (keys.attribute != "overall")][
        ["attribute", "comparison", "measure", "threshold"]].drop_duplicates()
    for k in gap_keys.itertuples(index=False):
        names = known_groups(groups, k.attribute)

        def gap_of(vid):
            vals = [reps.get((vid, k.attribute, g, k.measure, k.threshold)) for g in names]
            if any(v is None for v in vals):
                return np.nan, None
            return _gap([v[0] for v in vals]), _gap_reps([v[1] for v in vals])

        g0, r0 = gap_of("none")
        changes = {v["id"]: gap_of(v["id"]) for v in masked}
        valid = [(c[0] - g0, c[1] - r0) for c in changes.values() if c[1] is not None and r0 is not None]
        if not valid:
            continue
        mean_change = float(np.mean([v[0] for v in valid]))
        mean_rep = np.mean(np.array([v[1] for v in valid]), axis=0)  # NaN where any variant's gap is NaN
        for variant in masked:
            gv, rv = changes[variant["id"]]
            if rv is None or r0 is None:
                continue
            base = {**labels, "variant": variant["id"], "mask_kind": variant["kind"],
                    "mask_colour": variant["colour"], "attribute": k.attribute, "group": "max-min gap",
                    "comparison": k.comparison, "measure": k.measure, "threshold": k.threshold}
            lo, hi = interval(rv - r0, level)
            rows.append({**base, "effect": "gap_change", "masked": gv, "unmasked": g0, "value": gv - g0,
                         "ci_low": lo, "ci_high": hi})
            lo, hi = interval(rv - r0 - mean_rep, level)
            rows.append({**base, "effect": "interaction", "masked": gv - g0, "unmasked": mean_change,
                         "value": gv - g0 - mean_change, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)
