"""The ``rates`` table: every measure of every variant for every demographic group, with intervals.

A group's rate pools its identities' counts (:class:`maskaudit.stats.rates.Counts`); ``value =
errors / trials`` for an error rate and ``1 - errors / trials`` for a success rate. Each row carries the
exact Clopper-Pearson interval (:func:`maskaudit.stats.intervals.clopper_pearson`) and the
identity-bootstrap interval (:func:`maskaudit.stats.bootstrap.interval`; NaN for fewer than
``min_identities`` identities contributing), and ``under_30_errors`` (Doddington's rule of 30).
The measures themselves: :mod:`maskaudit.stats.measures`; the column list: :mod:`maskaudit.tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats.bootstrap import interval
from maskaudit.stats.groups import ATTRIBUTES
from maskaudit.stats.intervals import clopper_pearson
from maskaudit.stats.measures import identification_note, probe_codes, variant_measures
from maskaudit.stats.verification import eer, eer_threshold


def group_eer(
    scores: dict, members_codes: np.ndarray, codes: dict, imp_codes
) -> tuple[float, float, float]:
    """``(EER, errors, trials)`` of one group at its own EER threshold (:func:`eer_threshold`: accept
    iff ``s >= θ*``, ties on ``|FMR - FNMR|`` broken by the smallest ``FMR + FNMR``, then the smallest θ).

    Positives: the acquired mated scores of the group's probes; negatives: the sampled impostor scores
    with both sides in the group. ``errors`` = false matches + false non-matches at θ*, ``trials`` =
    the genuine and impostor scores it was computed from; ``(nan, nan, trials)`` when a side is empty.
    """
    ver = scores["verification"]
    mated = (ver.comparison == "mated").to_numpy()
    pos = ver.score.to_numpy(dtype=float)[mated & np.isin(codes["verification"], members_codes)]
    p_code, r_code = imp_codes
    neg = scores["impostors"]["sample_score"][
        np.isin(p_code, members_codes) & np.isin(r_code, members_codes)
    ]
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)].astype(float)
    if not (pos.size and neg.size):
        return float("nan"), float("nan"), float(pos.size + neg.size)
    t = eer_threshold(neg, pos)
    errors = np.count_nonzero(neg >= t) + np.count_nonzero(pos < t)
    return eer(neg, pos), float(errors), float(pos.size + neg.size)


def rates_table(
    variants: list[dict],
    scores: dict,
    identities: list[str],
    groups: pd.DataFrame,
    images: pd.DataFrame,
    weights: np.ndarray,
    labels: dict,
    ver_thr: dict,
    id_thr: dict,
    *,
    rank_k: int,
    level: float,
    min_identities: int,
) -> tuple[pd.DataFrame, dict, dict]:
    """``(rates, reps, measures_by_variant)`` of one (system, dataset).

    ``reps[(variant, attribute, group, measure, threshold)] = (rate, bootstrap replicates, identities
    contributing, errors, trials)`` feeds the differentials, fairness and mask-effect tables;
    ``measures_by_variant[variant]`` is its :class:`maskaudit.stats.measures.Measures`.
    """
    n = len(identities)
    rate_rows, reps = [], {}
    measures_by_variant = {}
    for variant in variants:
        vid = variant["id"]
        sc = scores[vid]
        codes = probe_codes(sc, identities)
        meas = variant_measures(sc, codes, n, ver_thr, id_thr, rank_k)
        id_note = identification_note(sc["identification"])
        measures_by_variant[vid] = meas
        imp = sc["impostors"]
        imp_codes = (
            imp["probe_identity"][imp["sample_probe"]],
            imp["gallery_identity"][imp["sample_ref"]],
        )
        for attribute in ATTRIBUTES:
            for group in sorted(set(groups[attribute])):
                member = (groups[attribute] == group).to_numpy()
                base = {
                    **labels,
                    "variant": vid,
                    "mask_kind": variant["kind"],
                    "mask_colour": variant["colour"],
                    "attribute": attribute,
                    "group": group,
                    "n_identities": int(member.sum()),
                    "n_images": int(images.identity.isin(np.array(identities)[member]).sum()),
                }
                for comparison, measure, thr, t, success, counts in meas.items:
                    e, tr = counts.total(member)
                    rate = e / tr if tr else np.nan
                    rep = counts.replicates(weights, member)
                    if success:
                        rate, rep = 1.0 - rate, 1.0 - rep
                    units = counts.units(member)
                    reps[(vid, attribute, group, measure, thr)] = (rate, rep, units, e, tr)
                    cp = (
                        clopper_pearson(
                            int(round(tr - e if success else e)), int(round(tr)), 1 - level
                        )
                        if float(tr).is_integer()
                        else (np.nan, np.nan)
                    )
                    lo, hi = (
                        interval(rep, level)
                        if units >= max(2, min_identities)
                        else (np.nan, np.nan)
                    )
                    rate_rows.append(
                        {
                            **base,
                            "comparison": comparison,
                            "measure": measure,
                            "threshold": thr,
                            "threshold_similarity": t,
                            "value": rate,
                            "errors": e,
                            "trials": tr,
                            "n_units": units,
                            "under_30_errors": bool(min(e, tr - e) < 30),
                            "cp_low": cp[0],
                            "cp_high": cp[1],
                            "boot_low": lo,
                            "boot_high": hi,
                        }
                    )
                    if id_note and comparison == "identification":
                        rate_rows[-1]["note"] = id_note
                eer_value, eer_errors, eer_trials = group_eer(
                    sc, np.flatnonzero(member), codes, imp_codes
                )
                rate_rows.append(
                    {
                        **base,
                        "comparison": "verification",
                        "measure": "eer_group_own_threshold",
                        "threshold": "group_eer",
                        "threshold_similarity": np.nan,
                        "value": eer_value,
                        "errors": eer_errors,
                        "trials": eer_trials,
                        "n_units": int(member.sum()),
                        "under_30_errors": bool(not eer_errors >= 30),
                        "cp_low": np.nan,
                        "cp_high": np.nan,
                        "boot_low": np.nan,
                        "boot_high": np.nan,
                    }
                )
    rates = pd.DataFrame(rate_rows)
    if "note" in rates:
        rates["note"] = rates["note"].fillna("")
    return rates, reps, measures_by_variant
