"""Demographic structure of a score matrix: the clustering index C_k (Howard, Sirotin, Tipton,
Vemury 2020, arXiv 2010.07979; summarised in /work/shared seed 003).

The subject x subject similarity matrix ``M`` (``M_ab`` = mean similarity of a's probes against b's
gallery images, both directions pooled; the diagonal is the mean mated similarity) is decomposed by
PCA: rows are subjects, columns are centred, ``X = U S`` from the SVD. For component ``k`` with
subject coordinates ``x_j``:

    C_k = 1 - sum_D sum_{j in D} (x_j - mean_D)^2 / sum_j (x_j - mean)^2

the share of the component's variance explained by the demographic groups ``D``. It lies in [0, 1]
and is 1 when subjects do not vary within their group. (The formula in the summary prints the
within-group share itself, whose text then says "1 = no variance within groups"; that reading needs
the ``1 -``, which is used here.) Entries with no comparisons are imputed by the column mean;
subjects with an ``unknown`` label are left out of the index (not of the PCA).
"""

from __future__ import annotations

import numpy as np

NAN = float("nan")


def subject_matrix(score_sum, score_count) -> np.ndarray:
    """Mean similarity per subject pair, both directions pooled (NaN where never compared)."""
    s = np.asarray(score_sum, float)
    c = np.asarray(score_count, float)
    s, c = s + s.T, c + c.T
    diag = np.arange(s.shape[0])
    s[diag, diag] /= 2.0
    c[diag, diag] /= 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)


def principal_coordinates(matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(coordinates (n_kept, n_comp), explained variance ratio, kept row mask)``."""
    m = np.asarray(matrix, float)
    keep = np.isfinite(m).any(1) & np.isfinite(m).any(0)
    m = m[np.ix_(keep, keep)]
    if m.shape[0] < 2:
        return np.zeros((m.shape[0], 0)), np.zeros(0), keep
    col_mean = np.nanmean(m, axis=0)
    m = np.where(np.isfinite(m), m, col_mean[None, :])
    m = m - m.mean(axis=0, keepdims=True)
    u, s, _ = np.linalg.svd(m, full_matrices=False)
    # fixed sign: the largest-magnitude coordinate of each component is positive (determinism)
    flip = np.sign(u[np.abs(u).argmax(0), np.arange(u.shape[1])])
    u = u * np.where(flip == 0, 1, flip)
    var = s ** 2
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    return u * s, ratio, keep


def clustering_index(x, labels) -> float:
    """C_k for one component's coordinates ``x`` and group ``labels`` (NaN: < 2 groups or no variance)."""
    x = np.asarray(x, float)
    labels = np.asarray(labels)
    if np.unique(labels).size < 2:
        return NAN
    total = ((x - x.mean()) ** 2).sum()
    if total <= 0:
        return NAN
    within = sum(((x[labels == g] - x[labels == g].mean()) ** 2).sum() for g in np.unique(labels))
    return float(1.0 - within / total)
