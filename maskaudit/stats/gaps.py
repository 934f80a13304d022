"""Group gaps per (variant, attribute, threshold): differentials with tests, and fairness summaries.

Input: ``reps[(variant, attribute, group, measure, threshold)] = (rate, bootstrap replicates,
identities contributing)`` from :func:`maskaudit.tables.audit_tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats import differentials as D
from maskaudit.stats.bootstrap import interval
from maskaudit.stats.groups import ATTRIBUTES, known_groups
from maskaudit.stats.measures import ERROR_MEASURES
from maskaudit.stats.permutation import p_value


def differentials_table(variants, measures_by_variant, reps, groups, perm_labels, labels, level) -> pd.DataFrame:
    rows = []
    for variant in variants:
        vid = variant["id"]
        for attribute in ATTRIBUTES[1:]:
            names, codes, permuted = perm_labels[attribute]
            for comparison, measure, thr, t, success, counts in measures_by_variant[vid].items:
                if measure not in ERROR_MEASURES:
                    continue
                obs = np.array([reps[(vid, attribute, g, measure, thr)][0] for g in names])
                ok = np.isfinite(obs)
                base = {**labels, "variant": vid, "mask_kind": variant["kind"], "mask_colour": variant["colour"],
                        "attribute": attribute, "comparison": comparison, "measure": measure, "threshold": thr,
                        "threshold_similarity": t, "n_groups": int(ok.sum()),
                        "groups": ";".join(np.array(names)[ok])}
                if ok.sum() < 2:
                    rows.append({**base, "worst_group": "", "best_group": "", "worst": np.nan, "best": np.nan,
                                 "difference": np.nan, "difference_low": np.nan, "difference_high": np.nan,
                                 "ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan, "p_permutation": np.nan})
                    continue
                idx = np.flatnonzero(ok)
                worst, best = idx[np.argmax(obs[idx])], idx[np.argmin(obs[idx])]
                _, rw, uw = reps[(vid, attribute, names[worst], measure, thr)]
                _, rb, ub = reps[(vid, attribute, names[best], measure, thr)]
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio_rep = np.where(rw == 0, np.where(rb == 0, 1.0, np.nan), np.where(rb > 0, rw / rb, np.nan))
                perm_rates = counts.permuted(permuted, len(names))
                perm_gap = np.nanmax(perm_rates, axis=1) - np.nanmin(perm_rates, axis=1) \
                    if perm_rates.size else np.zeros(0)
                gap = float(obs[idx].max() - obs[idx].min())
                # one identity carries no between-identity variance: no interval for that comparison
                dl, dh = interval(rw - rb, level) if min(uw, ub) >= 2 else (np.nan, np.nan)
                rl, rh = interval(ratio_rep, level) if min(uw, ub) >= 2 else (np.nan, np.nan)
                rows.append({**base, "worst_group": names[worst], "best_group": names[best], "worst": obs[worst],
                             "best": obs[best], "difference": gap, "difference_low": dl, "difference_high": dh,
                             "ratio": D.max_min_ratio(obs), "ratio_low": rl, "ratio_high": rh,
                             "p_permutation": p_value(gap, perm_gap)})
    return pd.DataFrame(rows)


def fairness_table(variants, ver_thr, reps, groups, labels, alpha, level) -> pd.DataFrame:
    rows = []
    for variant in variants:
        vid = variant["id"]
        for attribute in ATTRIBUTES[1:]:
            names = known_groups(groups, attribute)
            for thr, t in ver_thr.items():
                key = (vid, attribute)
                if not np.isfinite(t) or (vid, attribute, names[0] if names else "", "fmr", thr) not in reps:
                    continue
                fmr = np.array([reps[(*key, g, "fmr", thr)][0] for g in names])
                fnmr = np.array([reps[(*key, g, "fnmr", thr)][0] for g in names])
                fmr_r = np.array([reps[(*key, g, "fmr", thr)][1] for g in names])
                fnmr_r = np.array([reps[(*key, g, "fnmr", thr)][1] for g in names])
                base = {**labels, "variant": vid, "mask_kind": variant["kind"], "mask_colour": variant["colour"],
                        "attribute": attribute, "threshold": thr, "threshold_similarity": t, "alpha": alpha,
                        "n_groups_fmr": int(np.isfinite(fmr).sum()), "n_groups_fnmr": int(np.isfinite(fnmr).sum())}
                for stat, fn in (("fdr", D.fdr), ("garbe", D.garbe), ("inequity_rate", D.inequity_rate)):
                    rep = np.array([fn(fmr_r[:, b], fnmr_r[:, b], alpha) for b in range(fmr_r.shape[1])])
                    lo, hi = interval(rep, level)
                    rows.append({**base, "statistic": stat, "value": fn(fmr, fnmr, alpha), "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)
