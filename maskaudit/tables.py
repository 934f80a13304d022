"""Per-group rates, differentials, mask effects and score-matrix structure for one (system, dataset).

Input: the score files of every variant (:mod:`maskaudit.protocol`) and the global thresholds.
Output tables (one row per value; column meanings in ``README.md`` and the report captions):

``rates``
    one row per (variant, attribute, group, comparison, measure, threshold). Groups: ``overall``
    (``all``), ``gender``, ``race`` and ``gender_race``; a probe belongs to its identity's group.
    Measures (``value = errors / trials`` for error rates, ``1 - errors / trials`` for success rates):

    Every error measure comes acquired only (``reid_fnmr``, ``fnmr``, ``fmr``, ``rank{k}``, ``fnir``,
    ``fpir``) and system-level (``<measure>_system``, ISO/IEC 19795-1: the system's own failures to
    acquire, ``model_*`` and ``vendor_*``, count as errors; pipeline failures, ``dataset`` and
    ``mask_*``, are left out of the trials and reported as ``fta_pipeline``); see
    :mod:`maskaudit.stats.measures`.

    * reidentification: ``reid_rate`` (= 1 - ``reid_fnmr_system``), ``reid_fnmr`` (acquired only);
    * verification: ``fnmr`` (mated, acquired), ``fnmr_system``,
      ``fmr`` (impostors with both sides in the group; overall = every impostor; acquired only: a
      failed impostor comparison is never counted as a correct rejection), ``fta_impostor``, and
      ``eer_group_own_threshold``: the group's EER at the group's own EER threshold, a per-group
      quantity (no interval; never used for decisions); its ``errors`` are the false matches plus
      false non-matches at that threshold and ``trials`` the genuine plus impostor scores used;
    * identification: ``rank1`` ... ``rank{k}`` (the CMC; closed set, mated acquired searches),
      ``*_system`` and ``*_acquired`` (the same counts as the plain names); ``fnir`` / ``fnir_acquired`` (open set, mate not at rank 1 with score >= the
      FPIR threshold) and ``fpir`` (non-mated acquired searches with any candidate >= threshold);
    * acquisition: ``fta``, ``fta_system``, ``fta_pipeline`` and ``fta_<origin>`` (dataset, mask, model,
      vendor) over probe images.

    A comparison-only system whose 1:N was not run (``identification_source = not_run`` in its
    identification score file) gets identification rows with NaN values, zero trials and a ``note``
    column giving the reason (the column exists only when some row has a note).

    Each row has ``errors``/``trials``, ``under_30_errors`` (Doddington's rule of 30: fewer than 30
    errors, or fewer than 30 successes for a success rate's complement, so the rate is not yet
    trustworthy), the Clopper-Pearson interval ``cp_low``/``cp_high`` and the identity-bootstrap
    interval ``boot_low``/``boot_high``.
``differentials``
    per (variant, attribute, threshold, error measure): worst and best group with their errors,
    trials and identities, ``difference`` (max - min) and ``ratio``: a **description** beside
    ``difference_null_mean`` (max - min's mean under shuffled group labels, what noise alone gives)
    and ``p_permutation`` (a test that no group differs). No interval: the groups are picked on the data.
``fairness``
    FDR, GARBE and inequity rate of (FMR, FNMR) with bootstrap intervals, once with the acquired
    ``fnmr`` and once with ``fnmr_system`` where the rates have it (``fnmr_measure``); NaN with a
    ``reason`` when a group has fewer than ``min_group_errors`` errors.
``mask_effects``
    masked minus unmasked per group, with intervals; the change of the max - min gap beside its
    ``null_expectation`` (a description, no interval).
``clustering``
    C_k per principal component of the non-mated subject x subject matrix, with ``null_expected``
    ``(G - 1) / (N - 1)``, the permutation ``null_mean`` and ``p_value``.
``tests``
    the predeclared tests (:mod:`maskaudit.stats.hypotheses`): signed, paired contrasts with
    identity-bootstrap intervals, permutation p-values, Holm per (system, dataset, role) and verdicts.

Groups labelled ``unknown`` get rate rows but are left out of differentials and tests. No bootstrap
interval is given for fewer than ``min_identities`` identities contributing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit import metrics as M
from maskaudit.seeding import rng_for
from maskaudit.stats import clustering as C
from maskaudit.stats.bootstrap import identity_weights, interval
from maskaudit.stats.gaps import differentials_table, fairness_table
from maskaudit.stats.groups import ATTRIBUTES, identity_groups, known, known_groups
from maskaudit.stats.hypotheses import Settings, predeclared, run_tests
from maskaudit.stats.mask_effects import mask_effects_table
from maskaudit.stats.measures import ERROR_MEASURES, NO_THRESHOLD, probe_codes, variant_measures
from maskaudit.stats.permutation import p_value, permuted_labels

__all__ = ["ATTRIBUTES", "ERROR_MEASURES", "NO_THRESHOLD", "audit_tables", "collect", "identity_groups"]


def _group_eer(scores: dict, members_codes: np.ndarray, codes: dict, imp_codes) -> tuple[float, float, float]:
    """``(EER, errors, trials)``: errors = false matches + false non-matches at the group's own EER
    threshold, trials = the genuine and impostor scores it was computed from."""
    ver = scores["verification"]
    mated = (ver.comparison == "mated").to_numpy()
    pos = ver.score.to_numpy(dtype=float)[mated & np.isin(codes["verification"], members_codes)]
    p_code, r_code = imp_codes
    neg = scores["impostors"]["sample_score"][np.isin(p_code, members_codes) & np.isin(r_code, members_codes)]
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)].astype(float)
    if not (pos.size and neg.size):
        return float("nan"), float("nan"), float(pos.size + neg.size)
    t = M.eer_threshold(neg, pos)
    errors = np.count_nonzero(neg >= t) + np.count_nonzero(pos < t)
    return M.eer(neg, pos), float(errors), float(pos.size + neg.size)


def audit_tables(variants: list[dict], scores: dict, manifest: pd.DataFrame, thresholds: dict, *,
                 labels: dict, seed: int, dataset: str, n_boot: int, n_perm: int, rank_k: int,
                 fairness_alpha: float = 0.5, level: float = 0.95, n_components: int = 10,
                 tests: Settings | None = None, min_identities: int = 20, min_group_errors: int = 30) -> dict:
    """All tables of one (system, dataset). ``scores[variant_id]`` as in :func:`variant_measures`.

    ``tests``: the predeclared tests' settings (:mod:`maskaudit.stats.hypotheses`; defaults when None);
    ``min_identities``: no bootstrap interval for fewer identities contributing (``stats.min_identities``);
    ``min_group_errors``: fairness summaries are NaN when a group has fewer errors (``stats.min_group_errors``).
    """
    tests = tests or Settings(n_boot=n_boot, n_perm=n_perm, level=level, min_identities=min_identities)
    ver_thr = {r["name"]: float(r["similarity"]) for r in thresholds["verification"]}
    id_thr = {r["name"]: float(r["similarity"]) for r in thresholds["identification"]}
    identities = [str(x) for x in scores[variants[0]["id"]]["impostors"]["identity"]]
    n = len(identities)
    groups = identity_groups(manifest, identities)
    weights = identity_weights(np.zeros(n, dtype=int), n_boot, rng_for(seed, dataset, "bootstrap"))
    perm_rng = {a: rng_for(seed, dataset, "permutation", a) for a in ATTRIBUTES}
    perm_labels = {}
    for a in ATTRIBUTES[1:]:
        names = sorted(g for g in set(groups[a]) if known(g))
        codes = np.array([names.index(g) if g in names else -1 for g in groups[a]])
        perm_labels[a] = (names, codes, permuted_labels(codes, n_perm, perm_rng[a]))
    images = manifest.assign(identity=manifest.identity.astype(str))

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
                    reps[(vid, attribute, group, measure, thr)] = (rate, rep, units, e, tr)
                    cp = M.clopper_pearson(int(round(tr - e if success else e)), int(round(tr)), 1 - level) \
                        if float(tr).is_integer() else (np.nan, np.nan)
                    lo, hi = interval(rep, level) if units >= max(2, min_identities) else (np.nan, np.nan)
                    rate_rows.append({**base, "comparison": comparison, "measure": measure, "threshold": thr,
                                      "threshold_similarity": t, "value": rate, "errors": e, "trials": tr,
                                      "n_units": units, "under_30_errors": bool(min(e, tr - e) < 30),
                                      "cp_low": cp[0], "cp_high": cp[1],
                                      "boot_low": lo, "boot_high": hi})
                    if id_note and comparison == "identification":
                        rate_rows[-1]["note"] = id_note
                eer, eer_errors, eer_trials = _group_eer(sc, np.flatnonzero(member), codes, imp_codes)
                rate_rows.append({**base, "comparison": "verification", "measure": "eer_group_own_threshold",
                                  "threshold": "group_eer", "threshold_similarity": np.nan, "value": eer,
                                  "errors": eer_errors, "trials": eer_trials, "n_units": int(member.sum()),
                                  "under_30_errors": bool(not eer_errors >= 30), "cp_low": np.nan,
                                  "cp_high": np.nan,
                                  "boot_low": np.nan, "boot_high": np.nan})
    rates = pd.DataFrame(rate_rows)
    if "note" in rates:
        rates["note"] = rates["note"].fillna("")
    perm_store = {}  # permuted group rates, shared by the differentials and the gap changes
    diff = differentials_table(variants, measures_by_variant, reps, groups, perm_labels, labels, perm_store)
    fair = fairness_table(variants, ver_thr, reps, groups, labels, fairness_alpha, level,
                          min_identities=min_identities, min_group_errors=min_group_errors)
    effects = mask_effects_table(variants, rates, reps, groups, labels, level, measures_by_variant, perm_labels,
                                 min_identities=min_identities, perm_store=perm_store)
    clus = _clustering(variants, scores, groups, labels, n_components,
                       {a: perm_labels[a][2] for a in ATTRIBUTES[1:]})
    tested = tests_table(variants, measures_by_variant, groups, labels, tests, seed=seed, dataset=dataset)
    return {"rates": rates, "differentials": diff, "fairness": fair, "mask_effects": effects, "clustering": clus,
            "tests": tested}


def tests_table(variants, measures_by_variant, groups, labels, settings: Settings, *, seed, dataset) -> pd.DataFrame:
    """The predeclared tests (:mod:`maskaudit.stats.hypotheses`) of one (system, dataset), Holm per
    (system, dataset, role). Only per-probe-identity (1-D) error measures are tested."""
    counts, comparison = {}, {}
    for vid, meas in measures_by_variant.items():
        for comp, measure, thr, _, success, c in meas.items:
            if not success and not c.pairwise:
                counts[(vid, measure, thr)] = (c.errors, c.trials)
                comparison[measure] = comp
    names = {a: known_groups(groups, a) for a in ATTRIBUTES}
    specs = predeclared(variants, names, {(m, t) for _, m, t in counts}, settings)
    prefix = "/".join(str(labels[k]) for k in ("model", "dataset") if k in labels)
    table = run_tests(specs, lambda v, m, t: counts.get((v, m, t)), {a: groups[a].to_numpy() for a in ATTRIBUTES},
                      settings, seed_parts=(seed, dataset), family_prefix=f"{prefix}/" if prefix else "")
    table.insert(table.columns.get_loc("measure"), "comparison", table.measure.map(comparison).fillna(""))
    for k, v in reversed(list(labels.items())):
        table.insert(0, k, v)
    return table


def identification_note(ident: pd.DataFrame) -> str:
    """``"1:N not run: <reason>"`` when a comparison-only system's identification was not run, else ``""``."""
    if "identification_source" not in ident or not (ident.identification_source.astype(str) == "not_run").any():
        return ""
    reasons = sorted({str(r) for r in ident.get("identification_reason", pd.Series(dtype=str)).dropna() if str(r)})
    return "1:N not run: " + ("; ".join(reasons) or "no reason recorded")


def _clustering(variants, scores, groups, labels, n_components, permuted) -> pd.DataFrame:
    """C_k of the non-mated subject matrix, with its permutation null (``permuted[attribute]``:
    ``(n_perm, n)`` shuffled group codes over all identities; -1 = unknown)."""
    rows = []
    for variant in variants:
        imp = scores[variant["id"]]["impostors"]
        matrix = C.nonmated_matrix(imp["score_sum"], imp["score_count"])
        coords, ratio, keep = C.principal_coordinates(matrix)
        kept = groups[keep]
        for attribute in ATTRIBUTES[1:]:
            lab = kept[attribute].to_numpy()
            is_known = np.array([known(g) for g in lab], dtype=bool)
            perm = permuted[attribute][:, keep]
            for k in range(min(n_components, coords.shape[1])):
                null = C.clustering_null(coords[:, k], perm)
                ck = C.clustering_index(coords[is_known, k], lab[is_known])
                rows.append({**labels, "variant": variant["id"], "mask_kind": variant["kind"],
                             "mask_colour": variant["colour"], "attribute": attribute, "component": k + 1,
                             "explained_variance": float(ratio[k]), "n_subjects": int(is_known.sum()),
                             "n_groups": int(np.unique(lab[is_known]).size),
                             "clustering_index": ck,
                             "null_mean": float(np.nanmean(null)) if np.isfinite(null).any() else np.nan,
                             "null_expected": C.expected_under_null(int(np.unique(lab[is_known]).size),
                                                                    int(is_known.sum())),
                             "p_value": p_value(ck, null), "n_perm": int(null.size)})
    return pd.DataFrame(rows)


def collect(frames: list[pd.DataFrame], attribute: str | None = None) -> pd.DataFrame:
    """Concatenate tables in input order; keep only ``attribute`` rows when given."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    if "note" in rows:  # only some systems have notes (a vendor whose 1:N was not run)
        rows["note"] = rows["note"].fillna("")
    return rows[rows.attribute == attribute] if attribute else rows
