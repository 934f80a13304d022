"""Curve data for the figures: DET points per group from mated scores and matched impostor scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats import verification as M


def det_points(negatives, positives) -> tuple[np.ndarray, np.ndarray]:
    """``(fmr, fnmr)`` at every observed threshold (accept iff ``s >= t``); empty when a set is empty."""
    neg, pos = np.asarray(negatives, float), np.asarray(positives, float)
    neg, pos = neg[np.isfinite(neg)], pos[np.isfinite(pos)]
    if neg.size == 0 or pos.size == 0:
        return np.zeros(0), np.zeros(0)
    fmr, tmr, _ = M.roc_curve(neg, pos)
    return fmr, 1.0 - tmr


def group_det(verification: pd.DataFrame, impostors: dict, groups: pd.Series) -> dict:
    """``group -> (fmr, fnmr, n_genuine, n_impostor)``; ``groups`` maps identity -> group label.

    Genuine: acquired mated pairs of the group's probes; impostors: the impostor sample's pairs with
    both identities in the group; the extra group ``all`` holds every pair.
    """
    identity = np.asarray(impostors["identity"]).astype(str)
    p_grp = groups.reindex(
        identity[impostors["probe_identity"][impostors["sample_probe"]]]
    ).to_numpy()
    r_grp = groups.reindex(
        identity[impostors["gallery_identity"][impostors["sample_ref"]]]
    ).to_numpy()
    mated = verification[verification.comparison == "mated"]
    m_grp = groups.reindex(mated.probe_subject.astype(str)).to_numpy()
    out = {}
    groups = groups.copy()
    for group in ["all", *sorted(set(groups))]:
        everyone = group == "all"
        pos = mated.score.to_numpy(dtype=float)[everyone | (m_grp == group)]
        neg = impostors["sample_score"][everyone | ((p_grp == group) & (r_grp == group))]
        fmr, fnmr = det_points(neg, pos)
        out[group] = (fmr, fnmr, int(np.isfinite(pos).sum()), int(neg.size))
    return out
