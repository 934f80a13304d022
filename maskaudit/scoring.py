"""Scores from embedding caches: 1:1 pair scores and 1:N rankings.

Scores are similarities, ``score = -distance`` (higher = more alike), so one acceptance rule,
``score >= -threshold``, holds for every model. The raw distance and its direction are kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.metrics import mate_ranks
from maskaudit.tsv import read_tsv

LABELS = ("identity", "gender", "race", "age")


def distance_matrix(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """All distances between rows of ``a`` and ``b`` with one matrix product.

    ``euclidean``: ``sqrt(max(|a|^2 + |b|^2 - 2 a.b, 0))``; ``cosine``: ``1 - a.b / (|a| |b|)``.
    NaN rows stay NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dot = a @ b.T
    if metric == "euclidean":
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * dot
        return np.sqrt(np.maximum(sq, 0.0))
    if metric == "cosine":
        norms = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
        return 1.0 - dot / norms
    raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")


def pair_distances(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Row-wise distances between ``a[i]`` and ``b[i]`` (same formulas as :func:`distance_matrix`)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if metric == "euclidean":
        return np.linalg.norm(a - b, axis=1)
    if metric == "cosine":
        return 1.0 - (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")


def _side(manifest: pd.DataFrame, ids, prefix: str) -> pd.DataFrame:
    m = manifest.set_index("image_id").loc[list(ids), list(LABELS)]
    m.columns = [f"{prefix}_{'subject' if c == 'identity' else c}" for c in LABELS]
    return m.reset_index(drop=True)


def _mask_columns(variant: dict) -> dict:
    return {"probe_mask": variant["id"], "mask_kind": variant["kind"], "mask_colour": variant["colour"]}


def _fta_reason(probe_status, ref_status) -> list[str]:
    return [f"probe_{p}" if p != "ok" else (f"reference_{r}" if r != "ok" else "")
            for p, r in zip(probe_status, ref_status)]


def verification_scores(pairs: pd.DataFrame, probes: tuple, refs: tuple, manifest: pd.DataFrame,
                        variant: dict, card) -> pd.DataFrame:
    """One row per pair. ``probes``/``refs`` are ``(ids, vectors, status)`` embedding caches."""
    p_index = {i: k for k, i in enumerate(probes[0])}
    r_index = {i: k for k, i in enumerate(refs[0])}
    pi = np.array([p_index[i] for i in pairs.probe_id], dtype=int)
    ri = np.array([r_index[i] for i in pairs.ref_id], dtype=int)
    dist = pair_distances(probes[1][pi], refs[1][ri], card.metric) if len(pairs) else np.zeros(0)
    reasons = _fta_reason(np.array(probes[2])[pi], np.array(refs[2])[ri])
    dist[[bool(r) for r in reasons]] = np.nan
    out = pd.concat([pairs.reset_index(drop=True), _side(manifest, pairs.probe_id, "probe"),
                     _side(manifest, pairs.ref_id, "ref")], axis=1)
    out = out.assign(**_mask_columns(variant), ref_mask="none")
    out["raw_score"] = dist
    out["score_direction"] = "lower_is_same"
    out["score"] = -dist
    out["threshold"] = card.threshold
    out["decision"] = np.where(np.isnan(dist), "fta", np.where(dist <= card.threshold, "match", "non_match"))
    out["fta_reason"] = reasons
    return out


def identification_scores(probes: tuple, gallery: tuple, manifest: pd.DataFrame, variant: dict, card,
                          rank_k: int) -> pd.DataFrame:
    """Top-``rank_k`` gallery candidates per probe and the rank of its best mate over the whole gallery.

    The gallery is every unmasked image that was acquired. Ranks break ties against the probe
    (see :func:`maskaudit.metrics.mate_ranks`); candidate order among equal scores is gallery order.
    A probe that failed acquisition gets one row with NaN rank and its reason.
    """
    identity = manifest.set_index("image_id").identity
    g_ok = [k for k, s in enumerate(gallery[2]) if s == "ok"]
    g_ids = [gallery[0][k] for k in g_ok]
    g_identity = identity.loc[g_ids].to_numpy()
    scores = -distance_matrix(probes[1], gallery[1][g_ok], card.metric)
    is_mate = identity.loc[list(probes[0])].to_numpy()[:, None] == g_identity[None, :]
    ranks = mate_ranks(scores, is_mate)
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), axis=1, kind="stable")[:, :rank_k]
    rows = []
    for p, probe_id in enumerate(probes[0]):
        base = {"probe_id": probe_id, **_mask_columns(variant), "mate_rank": ranks[p], "gallery_size": len(g_ids)}
        if probes[2][p] != "ok":
            rows.append({**base, "rank": np.nan, "ref_id": "", "ref_subject": "", "score": np.nan,
                         "is_mate": False, "fta_reason": f"probe_{probes[2][p]}"})
            continue
        for r, g in enumerate(order[p], start=1):
            rows.append({**base, "rank": r, "ref_id": g_ids[g], "ref_subject": g_identity[g],
                         "score": scores[p, g], "is_mate": bool(is_mate[p, g]), "fta_reason": ""})
    out = pd.DataFrame(rows)
    sides = _side(manifest, out.probe_id, "probe")
    return pd.concat([out[["probe_id"]], sides, out.drop(columns="probe_id")], axis=1)


def read_scores(path) -> pd.DataFrame:
    return read_tsv(path, dtype={"probe_age": str, "ref_age": str, "fta_reason": str})
