"""Per-group rates, differentials, mask effects and score-matrix structure for one (system, dataset).

Input: the score files of every variant (:mod:`maskaudit.protocol`) and the global thresholds.
Output tables (one row per value; column meanings in ``README.md`` and the report captions):

``rates``
    one row per (variant, attribute, group, comparison, measure, threshold). Groups: ``overall``
    (``all``), ``gender``, ``race`` and ``gender_race``; a probe belongs to its identity's group.
    Measures (``value = errors / trials`` for error rates, ``1 - errors / trials`` for success rates):

    * reidentification: ``reid_rate`` (accepted own-original comparisons / all, failures count as
      rejections), ``reid_rate_acquired`` (failures excluded), ``reid_fnmr`` (= 1 - ``reid_rate``);
    * verification: ``fnmr`` (mated, acquired), ``fnmr_with_fta`` (failures as rejections),
      ``fmr`` (impostors with both sides in the group; overall = every impostor; acquired only: a
      failed impostor comparison is never counted as a correct rejection), ``fta_impostor``, and
      ``eer_group_own_threshold``: the group's EER at the group's own EER threshold, a per-group
      quantity (no interval; never used for decisions);
    * identification: ``rank1`` ... ``rank{k}`` (the CMC; closed set, mated searches, failures as
      misses) and ``*_acquired``; ``fnir`` / ``fnir_acquired`` (open set, mate not at rank 1 with score >= the
      FPIR threshold) and ``fpir`` (non-mated acquired searches with any candidate >= threshold);
    * acquisition: ``fta`` and ``fta_<origin>`` (dataset, mask, model, vendor) over probe images.

    Each row has ``errors``/``trials``, ``under_30_errors`` (Doddington's rule of 30: fewer than 30
    errors, or fewer than 30 successes for a success rate's complement, so the rate is not yet
    trustworthy), the Clopper-Pearson interval ``cp_low``/``cp_high`` and the identity-bootstrap
    interval ``boot_low``/``boot_high``.
``differentials``
    per (variant, attribute, threshold, error measure): worst and best group, their difference and
    ratio with bootstrap intervals, and the permutation p-value of the max - min gap (Holm and
    significance are added per table family when tables are collected).
``fairness``
    FDR, GARBE and inequity rate of (FMR, FNMR) with bootstrap intervals.
``mask_effects``
    masked minus unmasked per group; the change of the max - min gap; and the interaction (this
    variant's gap change minus the mean gap change over all masked variants), with intervals.
``clustering``
    C_k per principal component of the subject x subject similarity matrix.

Groups labelled ``unknown`` get rate rows but are left out of differentials and tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit import metrics as M
from maskaudit.protocol.fta import ORIGINS
from maskaudit.seeding import rng_for
from maskaudit.stats import clustering as C
from maskaudit.stats import differentials as D
from maskaudit.stats.bootstrap import identity_weights, interval
from maskaudit.stats.permutation import p_value, permuted_labels
from maskaudit.stats.rates import Counts, coo_matrix, from_rows

ATTRIBUTES = ("overall", "gender", "race", "gender_race")
UNKNOWN = "unknown"
NO_THRESHOLD = "-"
# error measures compared across groups (differentials, tests, gap changes)
ERROR_MEASURES = ("reid_fnmr", "fnmr", "fmr", "fnir")


def identity_groups(manifest: pd.DataFrame, identities) -> pd.DataFrame:
    """One row per identity (in ``identities`` order) with its group in each attribute.

    An identity's labels are those of its first image in the manifest.
    """
    first = manifest.drop_duplicates("identity").set_index("identity")
    out = pd.DataFrame(index=pd.Index(list(identities), name="identity"))
    out["overall"] = "all"
    out["gender"] = first.gender.astype(str).reindex(out.index).to_numpy()
    out["race"] = first.race.astype(str).reindex(out.index).to_numpy()
    out["gender_race"] = out.gender + "/" + out.race
    return out


def _known(group: str) -> bool:
    return UNKNOWN not in group.split("/")


class _Measures:
    """Counts of every (comparison, measure, threshold) of one variant."""

    def __init__(self):
        self.items: list[tuple[str, str, str, float, bool, Counts]] = []

    def add(self, comparison, measure, threshold, value, success, counts):
        self.items.append((comparison, measure, threshold, value, success, counts))


def variant_measures(scores: dict, codes: dict, n: int, ver_thresholds: dict, id_thresholds: dict,
                     rank_k: int) -> _Measures:
    """``scores``: ``reid``, ``verification``, ``identification`` frames and ``impostors`` arrays."""
    out = _Measures()
    reid, ver, ident, imp = scores["reid"], scores["verification"], scores["identification"], scores["impostors"]
    supported = {k: v for k, v in ver_thresholds.items() if np.isfinite(v)}

    r_code = codes["reid"]
    r_failed = (reid.decision == "fta").to_numpy()
    r_counted = (reid.decision != "not_compared").to_numpy()
    r_score = reid.score.to_numpy(dtype=float)
    mated = (ver.comparison == "mated").to_numpy()
    v_code = codes["verification"][mated]
    v_failed = (ver.decision == "fta").to_numpy()[mated]
    v_counted = (ver.decision != "not_compared").to_numpy()[mated]
    v_score = ver.score.to_numpy(dtype=float)[mated]
    f_row = imp["fm_threshold"]
    names = list(imp["threshold_name"])
    trials = imp["trials"].astype(float)
    for name, t in supported.items():
        with np.errstate(invalid="ignore"):
            r_rej = r_failed | (r_score < t)
            v_rej = v_failed | (v_score < t)
        out.add("reidentification", "reid_rate", name, t, True, from_rows(r_code, n, r_rej, r_counted))
        out.add("reidentification", "reid_rate_acquired", name, t, True,
                from_rows(r_code, n, r_rej, r_counted & ~r_failed))
        out.add("reidentification", "reid_fnmr", name, t, False, from_rows(r_code, n, r_rej, r_counted))
        out.add("verification", "fnmr", name, t, False, from_rows(v_code, n, v_rej, v_counted & ~v_failed))
        out.add("verification", "fnmr_with_fta", name, t, False, from_rows(v_code, n, v_rej, v_counted))
        k = names.index(name)
        sel = f_row == k
        fm = coo_matrix(n, imp["fm_probe"][sel], imp["fm_ref"][sel], imp["fm_count"][sel])
        out.add("verification", "fmr", name, t, False, Counts(fm, trials))
    failures = imp["failures"].astype(float)
    out.add("verification", "fta_impostor", NO_THRESHOLD, np.nan, False, Counts(failures, trials + failures))

    i_code = codes["identification"]
    i_failed = (ident.fta_reason.astype(str) != "").to_numpy()
    closed = (ident.search == "mated").to_numpy()
    ranks = ident.mate_rank.to_numpy(dtype=float)
    for r in range(1, rank_k + 1):  # the CMC, point by point
        with np.errstate(invalid="ignore"):
            miss = ~(ranks <= r)
        out.add("identification", f"rank{r}", NO_THRESHOLD, np.nan, True, from_rows(i_code, n, miss, closed))
        out.add("identification", f"rank{r}_acquired", NO_THRESHOLD, np.nan, True,
                from_rows(i_code, n, miss, closed & ~i_failed))
    o_mated = (ident.open_search == "mated").to_numpy()
    o_rank = ident.open_mate_rank.to_numpy(dtype=float)
    o_mate = ident.open_mate_score.to_numpy(dtype=float)
    o_non = ident.open_best_nonmate_score.to_numpy(dtype=float)
    for name, t in id_thresholds.items():
        if not np.isfinite(t):
            continue
        with np.errstate(invalid="ignore"):
            miss = ~((o_rank == 1) & (o_mate >= t))
            false_pos = o_non >= t
        out.add("identification", "fnir", name, t, False, from_rows(i_code, n, miss, o_mated))
        out.add("identification", "fnir_acquired", name, t, False, from_rows(i_code, n, miss, o_mated & ~i_failed))
        out.add("identification", "fpir", name, t, False, from_rows(i_code, n, false_pos, ~o_mated & ~i_failed))

    origin = ident.fta_origin.astype(str).to_numpy()
    everyone = np.ones(len(ident), bool)
    out.add("acquisition", "fta", NO_THRESHOLD, np.nan, False, from_rows(i_code, n, i_failed, everyone))
    for o in ORIGINS:
        out.add("acquisition", f"fta_{o}", NO_THRESHOLD, np.nan, False, from_rows(i_code, n, origin == o, everyone))
    return out


def _group_eer(scores: dict, members_codes: np.ndarray, codes: dict, imp_codes) -> float:
    ver = scores["verification"]
    mated = (ver.comparison == "mated").to_numpy()
    pos = ver.score.to_numpy(dtype=float)[mated & np.isin(codes["verification"], members_codes)]
    p_code, r_code = imp_codes
    neg = scores["impostors"]["sample_score"][np.isin(p_code, members_codes) & np.isin(r_code, members_codes)]
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)].astype(float)
    return M.eer(neg, pos) if pos.size and neg.size else float("nan")


def _codes(scores: dict, identities) -> dict:
    code = {x: k for k, x in enumerate(identities)}
    return {"reid": scores["reid"].probe_subject.astype(str).map(code).to_numpy(),
            "verification": scores["verification"].probe_subject.astype(str).map(code).to_numpy(),
            "identification": scores["identification"].probe_subject.astype(str).map(code).to_numpy()}


def audit_tables(variants: list[dict], scores: dict, manifest: pd.DataFrame, thresholds: dict, *,
                 labels: dict, seed: int, dataset: str, n_boot: int, n_perm: int, rank_k: int,
                 fairness_alpha: float = 0.5, level: float = 0.95, n_components: int = 10) -> dict:
    """All tables of one (system, dataset). ``scores[variant_id]`` as in :func:`variant_measures`."""
    ver_thr = {r["name"]: float(r["similarity"]) for r in thresholds["verification"]}
    id_thr = {r["name"]: float(r["similarity"]) for r in thresholds["identification"]}
    identities = [str(x) for x in scores[variants[0]["id"]]["impostors"]["identity"]]
    n = len(identities)
    groups = identity_groups(manifest, identities)
    weights = identity_weights(np.zeros(n, dtype=int), n_boot, rng_for(seed, dataset, "bootstrap"))
    perm_rng = {a: rng_for(seed, dataset, "permutation", a) for a in ATTRIBUTES}
    perm_labels = {}
    for a in ATTRIBUTES[1:]:
        names = sorted(g for g in set(groups[a]) if _known(g))
        codes = np.array([names.index(g) if g in names else -1 for g in groups[a]])
        perm_labels[a] = (names, codes, permuted_labels(codes, n_perm, perm_rng[a]))
    images = manifest.assign(identity=manifest.identity.astype(str))

    rate_rows, reps = [], {}
    measures_by_variant = {}
    for variant in variants:
        vid = variant["id"]
        sc = scores[vid]
        codes = _codes(sc, identities)
        meas = variant_measures(sc, codes, n, ver_thr, id_thr, rank_k)
        measures_by_variant[vid] = meas
        imp = sc["impostors"]
        imp_codes = (imp["probe_identity"][imp["sample_probe"]], imp["gallery_identity"][imp["sample_ref"]])
        for attribute in ATTRIBUTES:
            for group in sorted(set(groups[attribute])):
                member = (groups[attribute] == group).to_numpy()
                base = {**labels, "variant": vid, "mask_kind": variant["kind"], "mask_colour": variant["colour"],
                        "attribute": attribute, "group": group, "n_identities": int(member.sum()),
                        "n_images": int(images.identity.isin(np.array(identities)[member]).sum())}
                for comparison, measure, thr, t, success, counts in meas.items:
                    e, tr = counts.total(member)
                    rate = e / tr if tr else np.nan
                    rep = counts.replicates(weights, member)
                    if success:
                        rate, rep = 1.0 - rate, 1.0 - rep
                    units = counts.units(member)
                    reps[(vid, attribute, group, measure, thr)] = (rate, rep, units)
                    cp = M.clopper_pearson(int(round(tr - e if success else e)), int(round(tr)), 1 - level) \
                        if float(tr).is_integer() else (np.nan, np.nan)
                    lo, hi = interval(rep, level) if units >= 2 else (np.nan, np.nan)
                    rate_rows.append({**base, "comparison": comparison, "measure": measure, "threshold": thr,
                                      "threshold_similarity": t, "value": rate, "errors": e, "trials": tr,
                                      "n_units": units, "under_30_errors": bool(min(e, tr - e) < 30),
                                      "cp_low": cp[0], "cp_high": cp[1],
                                      "boot_low": lo, "boot_high": hi})
                eer = _group_eer(sc, np.flatnonzero(member), codes, imp_codes)
                rate_rows.append({**base, "comparison": "verification", "measure": "eer_group_own_threshold",
                                  "threshold": "group_eer", "threshold_similarity": np.nan, "value": eer,
                                  "errors": np.nan, "trials": np.nan, "n_units": np.nan,
                                  "under_30_errors": True, "cp_low": np.nan,
                                  "cp_high": np.nan,
                                  "boot_low": np.nan, "boot_high": np.nan})
    rates = pd.DataFrame(rate_rows)
    diff = _differentials(variants, measures_by_variant, reps, groups, perm_labels, labels, level)
    fair = _fairness(variants, ver_thr, reps, groups, labels, fairness_alpha, level)
    effects = _mask_effects(variants, rates, reps, groups, labels, level)
    clus = _clustering(variants, scores, groups, labels, n_components)
    return {"rates": rates, "differentials": diff, "fairness": fair, "mask_effects": effects, "clustering": clus}


def _known_groups(groups, attribute):
    return sorted(g for g in set(groups[attribute]) if _known(g))


def _differentials(variants, measures_by_variant, reps, groups, perm_labels, labels, level) -> pd.DataFrame:
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


def _fairness(variants, ver_thr, reps, groups, labels, alpha, level) -> pd.DataFrame:
    rows = []
    for variant in variants:
        vid = variant["id"]
        for attribute in ATTRIBUTES[1:]:
            names = _known_groups(groups, attribute)
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


def _mask_effects(variants, rates, reps, groups, labels, level) -> pd.DataFrame:
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
        names = _known_groups(groups, k.attribute)

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


def _clustering(variants, scores, groups, labels, n_components) -> pd.DataFrame:
    rows = []
    for variant in variants:
        imp = scores[variant["id"]]["impostors"]
        matrix = C.subject_matrix(imp["score_sum"], imp["score_count"])
        coords, ratio, keep = C.principal_coordinates(matrix)
        kept = groups[keep]
        for attribute in ATTRIBUTES[1:]:
            lab = kept[attribute].to_numpy()
            known = np.array([_known(g) for g in lab], dtype=bool)
            for k in range(min(n_components, coords.shape[1])):
                rows.append({**labels, "variant": variant["id"], "mask_kind": variant["kind"],
                             "mask_colour": variant["colour"], "attribute": attribute, "component": k + 1,
                             "explained_variance": float(ratio[k]), "n_subjects": int(known.sum()),
                             "n_groups": int(np.unique(lab[known]).size),
                             "clustering_index": C.clustering_index(coords[known, k], lab[known])})
    return pd.DataFrame(rows)


def apply_holm(table: pd.DataFrame, family: str = "attribute", alpha: float = 0.05) -> pd.DataFrame:
    """Holm-adjust ``p_permutation`` within each ``family`` and add the significance columns.

    ``significant`` requires both the Holm-adjusted p < alpha and a bootstrap interval of the
    worst-minus-best difference that excludes 0; ``evidence`` says which of the two hold, so a
    disagreement is visible instead of hidden.
    """
    from maskaudit.stats.permutation import holm

    out = table.copy()
    if out.empty:
        return out.assign(p_holm=[], significant=[], evidence=[])
    out["p_holm"] = np.nan
    for _, idx in out.groupby(family, sort=False).groups.items():
        out.loc[idx, "p_holm"] = holm(out.loc[idx, "p_permutation"].to_numpy(dtype=float))
    test = out.p_holm < alpha
    excl = out.difference_low > 0
    out["significant"] = test & excl
    out["evidence"] = np.select([test & excl, test & ~excl, ~test & excl], ["both", "permutation_only",
                                                                             "interval_only"], "neither")
    out.loc[out.p_holm.isna(), "evidence"] = "untested"
    return out


def collect(frames: list[pd.DataFrame], attribute: str | None = None) -> pd.DataFrame:
    """Concatenate tables in input order; keep only ``attribute`` rows when given."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    return rows[rows.attribute == attribute] if attribute else rows
