"""Machines answer the survey's trials from the audit's own caches (no new embedding, no new API call).

For each trial a system compares the masked probe with each candidate through the same
:class:`~maskaudit.protocol.sources.SimilaritySource` the scoring stage uses (embedding caches, or a
vendor's comparisons file). Its answer is the candidate with the highest similarity when that
similarity reaches the system's identification threshold (``survey.machine_threshold``, fixed on the
unmasked baseline by ``fix_thresholds``; accept iff ``s >= t``, ties to the earlier position), else
"none of these" (-1). A probe the system could not acquire, or a trial none of whose candidates it
compared, has no answer: ``choice`` is empty, ``fta_reason``/``fta_origin`` charge it to the
component that failed, and the analysis counts it as wrong (never dropped). A single candidate the
system failed on simply cannot be chosen (its score is empty).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from maskaudit.protocol.fta import fta_origin
from maskaudit.protocol.sources import open_source

COLUMNS = [
    "trial_id",
    "system",
    "variant",
    "choice",
    "best_score",
    "threshold",
    "scores",
    "fta_reason",
    "fta_origin",
]


def identification_threshold(thresholds: dict, name: str) -> float:
    """The named identification threshold (similarity units) of a ``results/thresholds`` document."""
    for t in thresholds.get("identification", []):
        if t["name"] == name:
            if not t.get("supported", False):
                raise ValueError(
                    f"threshold {name!r} of {thresholds.get('model')} is unsupported: {t.get('reason')}"
                )
            return float(t["similarity"])
    raise ValueError(
        f"no identification threshold {name!r}; known: "
        f"{[t['name'] for t in thresholds.get('identification', [])]}"
    )


def answer(scores: np.ndarray, threshold: float) -> int | None:
    """The position of the best finite score if it is ``>= threshold``, -1 if below, None if none is finite."""
    fin = np.isfinite(scores)
    if not fin.any():
        return None
    best = int(np.argmax(np.where(fin, scores, -np.inf)))
    return best if scores[best] >= threshold else -1


def score_trials(
    key: pd.DataFrame,
    inputs_by_variant: dict[str, dict],
    card,
    thresholds: dict,
    threshold_name: str,
    system: str,
) -> pd.DataFrame:
    """One row per non-attention trial with the system's answer (:data:`COLUMNS`)."""
    thr = identification_threshold(thresholds, threshold_name)
    rows = []
    for variant, trials in key[key.kind != "attention"].groupby("variant", sort=True):
        source = open_source(inputs_by_variant[variant], card)
        probe_index = {p: i for i, p in enumerate(source.probe_ids)}
        gallery_index = {g: i for i, g in enumerate(source.gallery_ids)}
        for row in trials.itertuples():
            cands = str(row.candidate_ids).split(";")
            base = {
                "trial_id": row.trial_id,
                "system": system,
                "variant": variant,
                "threshold": thr,
            }
            p = probe_index.get(row.probe_id)
            status = str(source.probe_status[p]) if p is not None else "missing_probe"
            if status not in ("ok", ""):
                rows.append(
                    {
                        **base,
                        "choice": "",
                        "best_score": np.nan,
                        "scores": "",
                        "fta_reason": status,
                        "fta_origin": fta_origin(status),
                    }
                )
                continue
            cols = np.array([gallery_index.get(c, -1) for c in cands])
            scores = np.full(len(cands), np.nan)
            have = cols >= 0
            if have.any():
                scores[have] = source.block(np.array([p]), cols[have])[0]
                g_status = np.asarray(source.gallery_status, dtype=str)[cols[have]]
                scores[np.flatnonzero(have)[~np.isin(g_status, ("ok", ""))]] = np.nan
            choice = answer(scores, thr)
            reason = "" if choice is not None else "no_candidate_compared"
            if choice is None:  # every candidate failed: charge it to the first candidate's failure
                g = [str(source.gallery_status[c]) for c in cols if c >= 0]
                reason = next((s for s in g if s not in ("ok", "")), "not_compared")
            rows.append(
                {
                    **base,
                    "choice": "" if choice is None else str(choice),
                    "best_score": float(np.nanmax(scores)) if np.isfinite(scores).any() else np.nan,
                    "scores": ";".join("" if not np.isfinite(s) else f"{s:.6f}" for s in scores),
                    "fta_reason": reason,
                    "fta_origin": fta_origin(reason) if reason != "not_compared" else "",
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def load_thresholds(path) -> dict:
    with open(path) as fh:
        return json.load(fh)
