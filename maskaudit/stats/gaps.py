"""Group gaps per (variant, attribute, threshold): descriptive differentials and fairness summaries.

Input: ``reps[(variant, attribute, group, measure, threshold)] = (rate, bootstrap replicates,
identities contributing, errors, trials)`` from :func:`maskaudit.stats.group_rates.rates_table`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats import differentials as D
from maskaudit.stats.bootstrap import interval
from maskaudit.stats.groups import ATTRIBUTES, known_groups
from maskaudit.stats.measures import ERROR_MEASURES
from maskaudit.stats.permutation import p_value


def permuted_rates(store: dict, key, counts, permuted, n_groups) -> np.ndarray:
    """``counts.permuted(...)`` memoised in ``store`` under ``key`` (the differentials and the gap
    changes read the same permuted group rates; impostor rates cost ``n_perm x n^2`` each)."""
    if key not in store:
        store[key] = counts.permuted(permuted, n_groups)
    return store[key]


def differentials_table(
    variants, measures_by_variant, reps, groups, perm_labels, labels, perm_store: dict | None = None
) -> pd.DataFrame:
    """Descriptive max - min of the group rates, beside its expectation under no group difference.

    The worst and best groups are picked on the observed data, so ``difference`` (max - min) grows
    with noise alone: it carries no interval (an interval of a data-selected worst-minus-best is
    biased away from 0). ``difference_null_mean`` is its mean over the identity-label permutations
    (what max - min reads when the groups do not differ) and ``p_permutation`` the share of them
    reaching the observed value (a valid test of "no group differs", one-sided in max - min). Signed,
    predeclared contrasts with intervals and verdicts are in the ``tests`` table.
    """
    rows = []
    for variant in variants:
        vid = variant["id"]
        for attribute in ATTRIBUTES[1:]:
            names, codes, permuted = perm_labels[attribute]
            for comparison, measure, thr, t, _success, counts in measures_by_variant[vid].items:
                if measure not in ERROR_MEASURES:
                    continue
                obs = np.array([reps[(vid, attribute, g, measure, thr)][0] for g in names])
                ok = np.isfinite(obs)
                base = {
                    **labels,
                    "variant": vid,
                    "mask_kind": variant["kind"],
                    "mask_colour": variant["colour"],
                    "attribute": attribute,
                    "comparison": comparison,
                    "measure": measure,
                    "threshold": thr,
                    "threshold_similarity": t,
                    "n_groups": int(ok.sum()),
                    "groups": ";".join(np.array(names)[ok]),
                }
                empty = {
                    "worst_group": "",
                    "best_group": "",
                    "worst": np.nan,
                    "best": np.nan,
                    "worst_errors": np.nan,
                    "worst_trials": np.nan,
                    "worst_identities": 0,
                    "best_errors": np.nan,
                    "best_trials": np.nan,
                    "best_identities": 0,
                    "difference": np.nan,
                    "difference_null_mean": np.nan,
                    "ratio": np.nan,
                    "p_permutation": np.nan,
                    "n_perm": 0,
                }
                if ok.sum() < 2:
                    rows.append({**base, **empty})
                    continue
                idx = np.flatnonzero(ok)
                worst, best = idx[np.argmax(obs[idx])], idx[np.argmin(obs[idx])]
                side = {}
                for key, g in (("worst", worst), ("best", best)):
                    member = codes == g
                    e, n = counts.total(member)
                    side.update(
                        {
                            f"{key}_errors": e,
                            f"{key}_trials": n,
                            f"{key}_identities": counts.units(member),
                        }
                    )
                perm_rates = permuted_rates(
                    {} if perm_store is None else perm_store,
                    (vid, attribute, measure, thr),
                    counts,
                    permuted,
                    len(names),
                )
                with np.errstate(invalid="ignore"):
                    perm_gap = (
                        np.nanmax(perm_rates, axis=1) - np.nanmin(perm_rates, axis=1)
                        if perm_rates.size
                        else np.zeros(0)
                    )
                gap = float(obs[idx].max() - obs[idx].min())
                rows.append(
                    {
                        **base,
                        **empty,
                        **side,
                        "worst_group": names[worst],
                        "best_group": names[best],
                        "worst": obs[worst],
                        "best": obs[best],
                        "difference": gap,
                        "difference_null_mean": float(np.nanmean(perm_gap))
                        if np.isfinite(perm_gap).any()
                        else np.nan,
                        "ratio": D.max_min_ratio(obs),
                        "p_permutation": p_value(gap, perm_gap),
                        "n_perm": int(np.isfinite(perm_gap).sum()),
                    }
                )
    return pd.DataFrame(rows)


def fairness_table(
    variants,
    ver_thr,
    reps,
    groups,
    labels,
    alpha,
    level,
    *,
    min_identities: int = 2,
    min_group_errors: int = 0,
) -> pd.DataFrame:
    """FDR, GARBE and the inequity rate of (FMR, FNMR) per variant, attribute and threshold.

    Computed twice where the rates exist: with the acquired ``fnmr`` and with the system-level
    ``fnmr_system`` (ISO/IEC 19795-1: the system's own failures to acquire count as errors); the
    column ``fnmr_measure`` says which. ``min_errors_fmr`` / ``min_errors_fnmr`` are the smallest
    group error counts: below ``min_group_errors`` the value is NaN with a ``reason`` (with no error
    observed, GARBE reads 0 and FDR 1, "fair", from nothing). Intervals need ``min_identities`` in
    every group.
    """
    rows = []
    for variant in variants:
        vid = variant["id"]
        for attribute in ATTRIBUTES[1:]:
            names = known_groups(groups, attribute)
            for thr, t in ver_thr.items():
                key = (vid, attribute)
                if (
                    not np.isfinite(t)
                    or (vid, attribute, names[0] if names else "", "fmr", thr) not in reps
                ):
                    continue
                for fnmr_measure in ("fnmr", "fnmr_system"):
                    if (*key, names[0], fnmr_measure, thr) not in reps:
                        continue
                    rows += _fairness_rows(
                        variant,
                        attribute,
                        names,
                        thr,
                        t,
                        fnmr_measure,
                        reps,
                        labels,
                        alpha,
                        level,
                        min_identities,
                        min_group_errors,
                    )
    return pd.DataFrame(rows)


def _fairness_rows(
    variant,
    attribute,
    names,
    thr,
    t,
    fnmr_measure,
    reps,
    labels,
    alpha,
    level,
    min_identities,
    min_group_errors,
):
    key = (variant["id"], attribute)
    get = {m: [reps[(*key, g, m, thr)] for g in names] for m in ("fmr", fnmr_measure)}
    fmr, fnmr = (np.array([r[0] for r in get[m]]) for m in ("fmr", fnmr_measure))
    fmr_r, fnmr_r = (np.array([r[1] for r in get[m]]) for m in ("fmr", fnmr_measure))
    err = {m: np.array([r[3] if len(r) > 3 else np.nan for r in get[m]]) for m in get}
    units = min(min(r[2] for r in get[m]) for m in get) if names else 0
    base = {
        **labels,
        "variant": variant["id"],
        "mask_kind": variant["kind"],
        "mask_colour": variant["colour"],
        "attribute": attribute,
        "threshold": thr,
        "threshold_similarity": t,
        "alpha": alpha,
        "fnmr_measure": fnmr_measure,
        "n_groups_fmr": int(np.isfinite(fmr).sum()),
        "n_groups_fnmr": int(np.isfinite(fnmr).sum()),
    }
    min_fmr = float(np.nanmin(err["fmr"][np.isfinite(fmr)])) if np.isfinite(fmr).any() else np.nan
    min_fnmr = (
        float(np.nanmin(err[fnmr_measure][np.isfinite(fnmr)]))
        if np.isfinite(fnmr).any()
        else np.nan
    )
    reason = ""
    if not (min_fmr >= min_group_errors and min_fnmr >= min_group_errors):
        reason = (
            f"a group has fewer than {min_group_errors} errors (fewest false matches {min_fmr:g}, "
            f"fewest false non-matches {min_fnmr:g})"
        )
    rows = []
    for stat, fn in (("fdr", D.fdr), ("garbe", D.garbe), ("inequity_rate", D.inequity_rate)):
        value, lo, hi = np.nan, np.nan, np.nan
        if not reason:
            value = fn(fmr, fnmr, alpha)
            if units >= max(2, min_identities):
                rep = np.array(
                    [fn(fmr_r[:, b], fnmr_r[:, b], alpha) for b in range(fmr_r.shape[1])]
                )
                lo, hi = interval(rep, level)
        rows.append(
            {
                **base,
                "statistic": stat,
                "value": value,
                "ci_low": lo,
                "ci_high": hi,
                "min_errors_fmr": min_fmr,
                "min_errors_fnmr": min_fnmr,
                "min_identities": units,
                "reason": reason,
            }
        )
    return rows
