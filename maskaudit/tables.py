"""Per-group accuracy and error tables from score files.

One metrics file per (model, dataset, variant) holds a row per (attribute, group): the whole set
(``overall``), each ``gender``, each ``race`` and each ``gender_race`` intersection. Group rules:

* genuine comparisons belong to the probe's group;
* impostor comparisons count for a group only when both sides are in it (same-group impostors);
* 1:N probes belong to their own group.

Every rate uses the model's own operating threshold (one global threshold, never per group).
Failures to acquire are counted: ``fta_*`` give their rates, ``far``/``frr``/``accuracy`` and
``p1_accuracy`` count them as non-matches, while ``fmr``/``fnmr``/``eer``/``roc_auc`` are computed on
acquired comparisons only.
"""

from __future__ import annotations

import pandas as pd

from maskaudit import metrics as M
from maskaudit.pairs import GENUINE

ATTRIBUTES = ("overall", "gender", "race", "gender_race")


def _attr_values(df: pd.DataFrame, side: str, attribute: str) -> pd.Series:
    if attribute == "overall":
        return pd.Series("all", index=df.index)
    if attribute == "gender_race":
        return df[f"{side}_gender"].astype(str) + "/" + df[f"{side}_race"].astype(str)
    return df[f"{side}_{attribute}"].astype(str)


def _rate(x: int, n: int) -> float:
    return x / n if n else float("nan")


def verification_row(genuine: pd.DataFrame, impostor: pd.DataFrame, threshold: float, fmr_target: float) -> dict:
    """Error rates for one group; ``threshold`` is on the similarity scale (accept iff score >= it)."""
    pos, fta_pos = M.split_fta(genuine.score.to_numpy())
    neg, fta_neg = M.split_fta(impostor.score.to_numpy())
    fmr, fnmr = M.farfrr(neg, pos, threshold)
    fta_g, fta_i = _rate(fta_pos, len(genuine)), _rate(fta_neg, len(impostor))
    far, frr = M.system_rates(fmr, fnmr, fta_i if len(impostor) else 0.0, fta_g if len(genuine) else 0.0)
    same = genuine[genuine.comparison == "same_image"]
    fnmr_lo, fnmr_hi = M.clopper_pearson(int((pos < threshold).sum()), pos.size)
    fmr_lo, fmr_hi = M.clopper_pearson(int((neg >= threshold).sum()), neg.size)
    return {
        "n_genuine": len(genuine), "n_impostor": len(impostor),
        "fta_genuine": fta_g, "fta_impostor": fta_i,
        "accuracy": M.accuracy(neg, pos, threshold, fta_neg, fta_pos),
        "p1_accuracy": _rate(int((same.score >= threshold).sum()), len(same)),
        "fmr": fmr, "fmr_ci_low": fmr_lo, "fmr_ci_high": fmr_hi,
        "fnmr": fnmr, "fnmr_ci_low": fnmr_lo, "fnmr_ci_high": fnmr_hi,
        "far": far, "frr": frr, "eer": M.eer(neg, pos),
        "fmr_target": fmr_target, "fnmr_at_fmr": M.fnmr_at_fmr(neg, pos, fmr_target), "roc_auc": M.roc_auc(neg, pos),
    }


def group_metrics(verification: pd.DataFrame, identification: pd.DataFrame, manifest: pd.DataFrame,
                  *, threshold: float, fmr_target: float, rank_k: int, labels: dict | None = None) -> pd.DataFrame:
    """All per-group rows for one (model, dataset, variant); ``labels`` become the leading columns."""
    genuine_all = verification[verification.comparison.isin(GENUINE)]
    impostor_all = verification[verification.comparison == "non_mated"]
    probes = identification.drop_duplicates("probe_id")
    images = manifest.rename(columns={c: f"probe_{c}" for c in ("gender", "race")})
    rows = []
    for attribute in ATTRIBUTES:
        g_key = _attr_values(genuine_all, "probe", attribute)
        i_probe, i_ref = _attr_values(impostor_all, "probe", attribute), _attr_values(impostor_all, "ref", attribute)
        p_key = _attr_values(probes, "probe", attribute)
        m_key = _attr_values(images, "probe", attribute)
        for group in sorted(set(m_key)):
            ranks = probes.mate_rank[p_key == group].to_numpy(dtype=float)
            rows.append({
                **(labels or {}), "attribute": attribute, "group": group, "n_images": int((m_key == group).sum()),
                **verification_row(genuine_all[g_key == group], impostor_all[(i_probe == group) & (i_ref == group)],
                                   threshold, fmr_target),
                "n_probes": len(ranks), "rank1": M.recognition_rate(ranks, 1),
                f"rank{rank_k}": M.recognition_rate(ranks, rank_k),
            })
    return pd.DataFrame(rows)


def collect(frames: list[pd.DataFrame], attribute: str) -> pd.DataFrame:
    """One table: the ``attribute`` rows of every metrics file, in input order."""
    rows = pd.concat(frames, ignore_index=True)
    return rows[rows.attribute == attribute]

