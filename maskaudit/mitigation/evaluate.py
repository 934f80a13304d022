"""The before/after view: a base system and its heads on held-out identities only.

For one dataset, ``eval identities`` are the split's ``test`` identities when the heads were trained
on that dataset, else all of its identities (none was seen in training). Per system (the base and
each head) and mask variant, over eval identities only:

* ``reid_distance``: mean cosine distance ``1 - cos`` between each masked image and its own
  unmasked original (acquired on both sides);
* ``reid_distance_ratio``: ``reid_distance`` divided by the mean cosine distance of the eval
  identities' unmasked impostor pairs (each unordered pair once). Scale-free: a head that shrinks
  every distance alike (collapse) does not improve it;
* ``fnmr`` at ``fmr_<target>``: masked probes against the OTHER unmasked photos of their identity
  (near-duplicates excluded), accept iff similarity ``>= t``, where ``t`` is fixed per system on
  the eval identities' unmasked impostors (:func:`maskaudit.protocol.thresholds.fixed_thresholds`,
  so the head's own training identities never set it); unsupported (NaN + reason) below 10/target
  impostors;
* ``fnmr_gap`` per attribute: ``FNMR(group) - FNMR(reference)`` for every known group, the
  reference being the group with the most eval identities (ties: alphabetical).

Intervals: identity bootstrap (:mod:`maskaudit.stats.bootstrap`), the same weights for every
system, variant and threshold, so a head's ``change`` (head minus base) is a paired contrast whose
interval comes from :func:`paired_change`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.embed import load_cache
from maskaudit.protocol.thresholds import fixed_thresholds
from maskaudit.seeding import rng_for
from maskaudit.stats import bootstrap

UNKNOWN = {"", "unknown"}
ATTRIBUTES = ("gender", "race")


def paired_change(before: np.ndarray, after: np.ndarray, level: float) -> tuple[float, float]:
    """Interval of ``after - before`` from replicates drawn with the SAME identity weights (paired).

    The one place the before/after contrast gets its interval (percentile of replicate differences,
    :func:`maskaudit.stats.bootstrap.interval`). Not repointed to :mod:`maskaudit.stats.contrasts`:
    its inputs are bootstrap replicates of arbitrary measures (mean cosine distances and their ratio,
    FNMR gaps, the privacy probe's gain over chance), not per-identity error counts, so they do not
    map onto that module's ratio-of-sums rates.
    """
    return bootstrap.interval(np.asarray(after, float) - np.asarray(before, float), level)


def _unit(v):
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _system_counts(
    caches: dict, image_identity: dict, ident_index: dict, near: set, targets
) -> dict:
    """Per-identity counts of one system over eval identities (see module docstring)."""
    k = len(ident_index)
    ids0, v0, st0 = load_cache(caches["none"])
    u0 = _unit(np.asarray(v0, np.float32))
    g_rows = [
        r
        for r, i in enumerate(ids0)
        if i in image_identity and st0[r] == "ok" and np.isfinite(u0[r]).all()
    ]
    g_ident = np.array([ident_index[image_identity[ids0[r]]] for r in g_rows], int)
    sim0 = u0[g_rows] @ u0[g_rows].T
    iu = np.triu_indices(len(g_rows), 1)
    imp = g_ident[iu[0]] != g_ident[iu[1]]
    imp_scores = sim0[iu][imp]
    S, N = np.zeros((k, k)), np.zeros((k, k))
    a, b = g_ident[iu[0]][imp], g_ident[iu[1]][imp]
    np.add.at(S, (a, b), 1 - imp_scores)
    np.add.at(S, (b, a), 1 - imp_scores)
    np.add.at(N, (a, b), 1)
    np.add.at(N, (b, a), 1)
    thr = fixed_thresholds(np.sort(imp_scores)[::-1], imp_scores.size, targets)
    row0 = {ids0[r]: r for r in range(len(ids0))}
    out = {"thresholds": thr, "impostor": (S, N), "variants": {}}
    for variant, path in caches.items():
        if variant == "none":
            continue
        ids, v, st = load_cache(path)
        u = _unit(np.asarray(v, np.float32))
        reid_sum, reid_n = np.zeros(k), np.zeros(k)
        err = {t["name"]: np.zeros(k) for t in thr}
        trials = np.zeros(k)
        for r, image in enumerate(ids):
            if image not in image_identity or st[r] != "ok" or not np.isfinite(u[r]).all():
                continue
            a_i = ident_index[image_identity[image]]
            r0 = row0.get(image)
            if r0 is not None and st0[r0] == "ok" and np.isfinite(u0[r0]).all():
                reid_sum[a_i] += 1 - float(u[r] @ u0[r0])
                reid_n[a_i] += 1
            mates = [
                c
                for c, g in enumerate(g_rows)
                if g_ident[c] == a_i
                and ids0[g] != image
                and frozenset((image, ids0[g])) not in near
            ]
            if not mates:
                continue
            scores = u0[[g_rows[c] for c in mates]] @ u[r]
            trials[a_i] += len(mates)
            for t in thr:
                if t["supported"]:
                    err[t["name"]][a_i] += np.count_nonzero(scores < t["similarity"])
        out["variants"][variant] = {"reid": (reid_sum, reid_n), "fnmr": (err, trials)}
    return out


def before_after(
    manifest: pd.DataFrame,
    systems: dict,
    eval_identities,
    near_duplicates: pd.DataFrame,
    *,
    fmr_targets,
    n_boot: int,
    level: float,
    seed: int,
    dataset: str,
    eval_label: str,
    min_identities: int = 20,
) -> pd.DataFrame:
    """The long before/after table. ``systems`` maps system id to ``{variant: cache path}`` (``none``
    included); its first entry is the base, the others are heads (id ``<base>+<loss>``). A value
    resting on fewer than ``min_identities`` identities (``stats.min_identities``) gets no interval,
    nor does its change: the reason says so."""
    eval_identities = sorted(set(eval_identities))
    ident_index = {name: i for i, name in enumerate(eval_identities)}
    m = manifest[manifest.identity.isin(ident_index)]
    image_identity = dict(zip(m.image_id.astype(str), m.identity.astype(str)))
    near = {
        frozenset(p)
        for p in zip(near_duplicates.image_a.astype(str), near_duplicates.image_b.astype(str))
    }
    per_identity = m.drop_duplicates("identity").set_index("identity")
    weights = bootstrap.identity_weights(
        np.zeros(len(eval_identities)), n_boot, rng_for(seed, "before_after", dataset)
    )
    base = next(iter(systems))
    rows, reps = [], {}
    for system, caches in systems.items():
        counts = _system_counts(caches, image_identity, ident_index, near, fmr_targets)
        S, N = counts["impostor"]
        imp_value = S.sum() / N.sum() if N.sum() else np.nan
        imp_reps = bootstrap.ratio_2d(weights, S, N)
        for variant, c in counts["variants"].items():

            def add(
                measure,
                threshold,
                group,
                value,
                replicates,
                n_ident,
                trials,
                supported=True,
                reason="",
            ):
                few = supported and n_ident < min_identities
                lo, hi = (
                    bootstrap.interval(replicates, level)
                    if supported and not few
                    else (np.nan, np.nan)
                )
                if few:
                    reason = f"fewer than {min_identities} identities ({int(n_ident)}): no interval"
                reps[(system, variant, measure, threshold, group)] = replicates
                rows.append(
                    {
                        "dataset": dataset,
                        "base": base,
                        "system": system,
                        "loss": "" if system == base else system.rpartition("+")[2],
                        "variant": variant,
                        "measure": measure,
                        "threshold": threshold,
                        "group": group,
                        "value": value if supported else np.nan,
                        "low": lo,
                        "high": hi,
                        "n_identities": int(n_ident),
                        "trials": int(trials),
                        "supported": bool(supported),
                        "reason": reason,
                        "eval_identities": eval_label,
                    }
                )

            rs, rn = c["reid"]
            reid_value = rs.sum() / rn.sum() if rn.sum() else np.nan
            reid_reps = bootstrap.ratio_1d(weights, rs, rn)
            add(
                "reid_distance",
                "-",
                "all",
                reid_value,
                reid_reps,
                np.count_nonzero(rn),
                rn.sum(),
                rn.sum() > 0,
                "" if rn.sum() else "no acquired masked/unmasked pair",
            )
            ok = rn.sum() > 0 and N.sum() > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                add(
                    "reid_distance_ratio",
                    "-",
                    "all",
                    reid_value / imp_value,
                    reid_reps / imp_reps,
                    np.count_nonzero(rn),
                    rn.sum(),
                    ok,
                    "" if ok else "no impostor pair among eval identities",
                )
            err, trials = c["fnmr"]
            for t in counts["thresholds"]:
                name = t["name"]
                supported = t["supported"] and trials.sum() > 0
                reason = t["reason"] or (
                    "" if trials.sum() else "no mated pair among eval identities"
                )
                add(
                    "fnmr",
                    name,
                    "all",
                    err[name].sum() / trials.sum() if trials.sum() else np.nan,
                    bootstrap.ratio_1d(weights, err[name], trials),
                    np.count_nonzero(trials),
                    trials.sum(),
                    supported,
                    reason,
                )
                if not supported:
                    continue
                for attribute in ATTRIBUTES:
                    labels = (
                        per_identity.reindex(eval_identities)[attribute]
                        .fillna("")
                        .astype(str)
                        .to_numpy()
                    )
                    groups = {
                        g: labels == g
                        for g in sorted(set(labels) - UNKNOWN)
                        if trials[labels == g].sum() > 0
                    }
                    if len(groups) < 2:
                        continue
                    ref = sorted(groups, key=lambda g: (-int(groups[g].sum()), g))[0]

                    def rate(g):
                        mask = groups[g]
                        return (
                            err[name][mask].sum() / trials[mask].sum(),
                            bootstrap.ratio_1d(weights * mask, err[name] * mask, trials * mask),
                        )

                    ref_value, ref_reps = rate(ref)
                    for g in groups:
                        if g == ref:
                            continue
                        value, g_reps = rate(g)
                        members = groups[g] | groups[ref]
                        add(
                            "fnmr_gap",
                            name,
                            f"{attribute}:{g}-{ref}",
                            value - ref_value,
                            g_reps - ref_reps,
                            np.count_nonzero(trials[members]),
                            trials[members].sum(),
                        )
    table = pd.DataFrame(rows)
    changes = []
    for row in table.itertuples():
        key = (base, row.variant, row.measure, row.threshold, row.group)
        if row.system == base or key not in reps or not row.supported:
            changes.append((np.nan, np.nan, np.nan))
            continue
        before = table[
            (table.system == base)
            & (table.variant == row.variant)
            & (table.measure == row.measure)
            & (table.threshold == row.threshold)
            & (table.group == row.group)
        ]
        if before.empty or not before.supported.iloc[0]:
            changes.append((np.nan, np.nan, np.nan))
            continue
        if min(row.n_identities, before.n_identities.iloc[0]) < min_identities:
            changes.append((row.value - before.value.iloc[0], np.nan, np.nan))
            continue
        lo, hi = paired_change(
            reps[key], reps[(row.system, row.variant, row.measure, row.threshold, row.group)], level
        )
        changes.append((row.value - before.value.iloc[0], lo, hi))
    table[["change", "change_low", "change_high"]] = pd.DataFrame(changes, index=table.index)
    return table
