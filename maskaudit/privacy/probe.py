"""Attribute probes on embeddings, with identity-disjoint cross-validation.

Targets: ``gender``, ``race`` and ``age_bucket`` (classification; ``unknown``/empty labels left out)
and ``age`` (regression, years). Probes: ``linear`` (standardised features; multinomial logistic
regression, or ridge regression for age) and ``mlp`` (one hidden layer of ``hidden`` ReLU units,
Adam, L2 ``1e-3``, seeded). Conditions ``train -> test``: ``none -> none`` (unmasked), ``v -> v``
(masked with variant ``v``) and ``none -> v`` (trained on unmasked faces, tested on masked ones).

Cross-validation: identities (never images) are dealt to ``folds`` folds by a seeded shuffle; each
fold is predicted by a probe trained on the other folds' identities, so no person is in both.
Every eval image gets one out-of-fold prediction. Measures: ``accuracy`` (classification) or ``mae``
(regression, years). The chance level is the best constant predictor on the evaluated images: the
most frequent class (accuracy; ties: first in sorted order) or the median age (MAE). An out-of-fold
constant (the training folds' majority) is NOT used: removing a fold's identities tilts the
training majority against that fold, so it scores below chance and would flatter every probe. The
best constant is the conservative bar: under the null no probe beats it on average. ``gain`` is
``accuracy - chance`` (or ``chance - mae``): above zero, the embedding reveals the attribute.
Intervals: identity bootstrap (:mod:`maskaudit.stats.bootstrap`) of the per-identity counts, one set
of weights for value, chance and gain (paired). A target runs when at least two classes each have
``min_identities`` identities (age: ``2 * min_identities`` identities with an age); otherwise its row
says why. Fewer than ``interval_identities`` (``stats.min_identities``) contributing identities give
the value without an interval, as the rest of the audit does. ``labels = shuffled`` rows repeat the
unmasked condition with the labels permuted across identities (seeded): a probe that works reaches
chance there.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from maskaudit.embed import load_cache

# the one paired-contrast interval of this stage
from maskaudit.mitigation.evaluate import paired_change
from maskaudit.privacy import REFERENCE_UTKFACE, age_bucket
from maskaudit.seeding import derive_seed, rng_for
from maskaudit.stats import bootstrap

TARGETS = ("gender", "race", "age_bucket", "age")
PROBES = ("linear", "mlp")
UNKNOWN = {"", "unknown", "nan"}


def labels_of(manifest: pd.DataFrame) -> pd.DataFrame:
    """Per image: ``image_id``, ``identity`` and every target ("" / NaN where unknown)."""
    out = manifest[["image_id", "identity"]].astype(str).copy()
    for col in ("gender", "race"):
        out[col] = (
            manifest[col].fillna("").astype(str).where(lambda s: ~s.isin(UNKNOWN), "")
            if col in manifest
            else ""
        )
    age = (
        pd.to_numeric(manifest["age"], errors="coerce")
        if "age" in manifest
        else pd.Series(np.nan, index=out.index)
    )
    out["age"] = age.where(age >= 0)
    out["age_bucket"] = [age_bucket(a) for a in out.age]
    return out


def make_probe(probe: str, regression: bool, seed: int, hidden: int):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if probe == "linear":
        model = Ridge(alpha=1.0) if regression else LogisticRegression(max_iter=2000, C=1.0)
    elif probe == "mlp":
        cls = MLPRegressor if regression else MLPClassifier
        model = cls(
            hidden_layer_sizes=(hidden,), alpha=1e-3, max_iter=300, random_state=seed % (2**32)
        )
    else:
        raise ValueError(f"unknown probe {probe!r}; use one of {PROBES}")
    return make_pipeline(StandardScaler(), model)


def identity_folds(identities, folds: int, seed: int, key: str) -> dict:
    names = sorted(set(identities))
    order = rng_for(seed, "privacy-folds", key).permutation(len(names))
    k = max(2, min(folds, len(names)))
    return {names[i]: rank % k for rank, i in enumerate(order)}


def cross_validate(
    x_train, x_test, y, identity, folds: dict, probe: str, regression: bool, seed: int, hidden: int
) -> np.ndarray:
    """Out-of-fold predictions; rows with a NaN test vector (failed image) get none (NaN / None).

    ``x_train`` rows are the training features and ``x_test`` the test features of the same images
    (identical for ``v -> v``; unmasked and masked for ``none -> v``)."""
    fold = np.array([folds[i] for i in identity])
    pred = np.full(len(y), np.nan if regression else None, dtype=float if regression else object)
    ok_train, ok_test = np.isfinite(x_train).all(1), np.isfinite(x_test).all(1)
    for f in sorted(set(fold)):
        tr, te = (fold != f) & ok_train, (fold == f) & ok_test
        if not te.any() or tr.sum() < 2:
            continue
        if not regression and np.unique(y[tr]).size < 2:
            pred[te] = y[tr][0]
            continue
        model = make_probe(probe, regression, derive_seed(seed, "privacy-probe", probe, f), hidden)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's convergence warnings on tiny folds
            model.fit(x_train[tr], y[tr])
        pred[te] = model.predict(x_test[te])
    return pred


def _per_identity(values, identity, names):
    index = {n: i for i, n in enumerate(names)}
    sums, counts = np.zeros(len(names)), np.zeros(len(names))
    for v, i in zip(values, identity):
        if np.isfinite(v):
            sums[index[i]] += v
            counts[index[i]] += 1
    return sums, counts


def score(
    pred,
    y,
    identity,
    regression: bool,
    *,
    n_boot: int,
    level: float,
    seed: int,
    key: str,
    interval_identities: int = 0,
) -> dict:
    """Value, chance and gain with identity-bootstrap intervals over the predicted images (module
    docstring); no interval (NaN bounds, ``reason`` says why) when fewer than ``interval_identities``
    identities contribute predictions."""
    if regression:
        done = np.isfinite(np.asarray(pred, float))
        const = float(np.median(y[done])) if done.any() else np.nan
        err = np.abs(np.asarray(pred, float) - y)
        base = np.where(done, np.abs(const - np.asarray(y, float)), np.nan)
    else:
        done = np.array([p is not None for p in pred])
        values, counts = (
            np.unique(y[done].astype(str), return_counts=True) if done.any() else ([None], [0])
        )
        const = values[int(np.argmax(counts))]
        err = np.where(done, (pred == y).astype(float), np.nan)
        base = np.where(done, (y.astype(str) == const).astype(float), np.nan)
    names = sorted(set(identity))
    s, n = _per_identity(err, identity, names)
    s0, _ = _per_identity(base, identity, names)
    w = bootstrap.identity_weights(np.zeros(len(names)), n_boot, rng_for(seed, "privacy-boot", key))
    value, chance = bootstrap.ratio_1d(w, s, n), bootstrap.ratio_1d(w, s0, n)
    total = n.sum()
    v, c = (s.sum() / total, s0.sum() / total) if total else (np.nan, np.nan)
    lo, hi = bootstrap.interval(value, level)
    clo, chi = bootstrap.interval(chance, level)
    glo, ghi = (
        paired_change(chance, value, level)
        if not regression
        else paired_change(value, chance, level)
    )
    n_ident = int(np.count_nonzero(n))
    reason = ""
    if n_ident < interval_identities:
        lo = hi = clo = chi = glo = ghi = np.nan
        reason = f"fewer than {interval_identities} identities ({n_ident}): no interval"
    return {
        "value": v,
        "low": lo,
        "high": hi,
        "chance": c,
        "chance_low": clo,
        "chance_high": chi,
        "gain": (c - v) if regression else (v - c),
        "gain_low": glo,
        "gain_high": ghi,
        "n_images": int(total),
        "n_identities": n_ident,
        "reason": reason,
    }


def eligible(labels: pd.DataFrame, target: str, min_identities: int) -> str:
    """``""`` when ``target`` can be probed, else the reason."""
    if target == "age":
        known = labels[labels.age.notna()].identity.nunique()
        need = 2 * min_identities
        return "" if known >= need else f"{known} identities with an age < {need} needed"
    per_class = labels[labels[target] != ""].groupby(target).identity.nunique()
    big = per_class[per_class >= min_identities]
    return (
        ""
        if len(big) >= 2
        else (
            f"fewer than two classes with >= {min_identities} identities "
            f"({ {str(k): int(v) for k, v in per_class.items()} })"
        )
    )


def shuffle_labels(labels: pd.DataFrame, seed: int, key: str) -> pd.DataFrame:
    """Targets permuted across identities (each identity keeps one label set): the null control."""
    per = labels.drop_duplicates("identity").set_index("identity")
    names = sorted(per.index)
    perm = rng_for(seed, "privacy-shuffle", key).permutation(len(names))
    mapping = dict(zip(names, [names[i] for i in perm]))
    out = labels.copy()
    for col in TARGETS:
        out[col] = [per.at[mapping[i], col] for i in labels.identity]
    return out


def probe_system(
    manifest: pd.DataFrame,
    caches: dict,
    *,
    system: str,
    dataset: str,
    probes=PROBES,
    targets=TARGETS,
    folds: int = 5,
    hidden: int = 64,
    min_identities: int = 2,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 0,
    shuffled_control: bool = True,
    interval_identities: int = 0,
) -> pd.DataFrame:
    """Every (condition, target, probe) row for one system and dataset; ``caches`` maps variant to
    cache path (``none`` first). Images failed in a condition's test variant are left out and counted
    in ``n_failed``. ``min_identities``: per class, for a target to run; ``interval_identities``
    (``stats.min_identities``): for its rows to get intervals."""
    labels = labels_of(manifest).set_index("image_id")
    vectors = {}
    for variant, path in caches.items():
        ids, vec, status = load_cache(path)
        frame = pd.DataFrame(np.asarray(vec, np.float32), index=ids)
        frame[[s != "ok" for s in status]] = np.nan
        vectors[variant] = frame.reindex(labels.index).to_numpy(np.float32)
    conditions = (
        [("none", "none", "true")]
        + [(v, v, "true") for v in caches if v != "none"]
        + [("none", v, "true") for v in caches if v != "none"]
    )
    if shuffled_control:
        conditions.append(("none", "none", "shuffled"))
    rows = []
    for train_v, test_v, kind in conditions:
        lab = (
            labels.reset_index()
            if kind == "true"
            else shuffle_labels(labels.reset_index(), seed, f"{system}/{dataset}")
        )
        for target in targets:
            regression = target == "age"
            known = (lab.age.notna() if regression else lab[target] != "").to_numpy()
            reason = eligible(lab[known], target, min_identities)
            ref = REFERENCE_UTKFACE[target]
            base = {
                "dataset": dataset,
                "system": system,
                "train_variant": train_v,
                "test_variant": test_v,
                "labels": kind,
                "target": target,
                "measure": ref["measure"],
                "reference_utkface": ref["unmasked" if test_v == "none" else "masked"],
            }
            if reason:
                for probe in probes:
                    rows.append({**base, "probe": probe, "supported": False, "reason": reason})
                continue
            y = (lab.age.to_numpy(float) if regression else lab[target].to_numpy(object))[known]
            identity = lab.identity.to_numpy(str)[known]
            xtr, xte = vectors[train_v][known], vectors[test_v][known]
            n_failed = int((~np.isfinite(xte).all(1)).sum())
            fold_of = identity_folds(identity, folds, seed, f"{dataset}/{target}")
            for probe in probes:
                pred = cross_validate(
                    xtr, xte, y, identity, fold_of, probe, regression, seed, hidden
                )
                stats = score(
                    pred,
                    y,
                    identity,
                    regression,
                    n_boot=n_boot,
                    level=level,
                    seed=seed,
                    key=f"{dataset}/{target}",
                    interval_identities=interval_identities,
                )
                rows.append(
                    {
                        **base,
                        "probe": probe,
                        **stats,
                        "n_failed": n_failed,
                        "folds": len(set(fold_of.values())),
                        "supported": True,
                    }
                )
    columns = [
        "dataset",
        "system",
        "train_variant",
        "test_variant",
        "labels",
        "target",
        "probe",
        "measure",
        "value",
        "low",
        "high",
        "chance",
        "chance_low",
        "chance_high",
        "gain",
        "gain_low",
        "gain_high",
        "n_images",
        "n_identities",
        "n_failed",
        "folds",
        "supported",
        "reason",
        "reference_utkface",
    ]
    table = pd.DataFrame(rows).reindex(columns=columns)
    for col in (
        "n_images",
        "n_identities",
        "n_failed",
        "folds",
    ):  # counts stay integers beside NaN rows
        table[col] = pd.Series(
            [int(v) if pd.notna(v) else np.nan for v in table[col]], index=table.index, dtype=object
        )
    return table
