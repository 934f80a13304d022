"""Demographic structure of a score matrix: the clustering index C_k (Howard, Sirotin, Tipton,
Vemury 2020, "Quantifying the extent to which race and gender features determine identity in
commercial face recognition algorithms", arXiv 2010.07979).

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

**Non-mated only.** The index is computed on :func:`nonmated_matrix`: the diagonal (a subject's mated
similarity) is removed, so the structure is that of impostor scores alone (mated similarity says how
well a subject is recognised, not how subjects resemble each other).

**Null.** With random labels, ``E[C_k] = (G - 1) / (N - 1)`` for ``G`` groups and ``N`` subjects
(one-way ANOVA's between-group share under exchangeability): 0.13 for 14 groups of 98 subjects,
which is no clustering at all. Each row therefore carries that expectation, the mean of
:func:`clustering_null` (the same index under shuffled group labels over the fixed coordinates;
the PCA does not depend on the labels, so the shuffle is an exact test) and the one-sided
permutation p-value ``(1 + #{C* >= C}) / (1 + n_perm)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.stats.groups import ATTRIBUTES, known
from maskaudit.stats.permutation import group_sums_1d, p_value

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


def nonmated_matrix(score_sum, score_count) -> np.ndarray:
    """:func:`subject_matrix` with the diagonal (mated similarity) set to NaN: non-mated scores only."""
    m = subject_matrix(score_sum, score_count)
    np.fill_diagonal(m, np.nan)
    return m


def expected_under_null(n_groups: int, n_subjects: int) -> float:
    """``(G - 1) / (N - 1)``: the mean C_k under randomly assigned labels (NaN when undefined)."""
    return (n_groups - 1) / (n_subjects - 1) if n_groups >= 2 and n_subjects >= 2 else NAN


def clustering_null(x, permuted_codes) -> np.ndarray:
    """C_k of coordinates ``x`` under each row of ``permuted_codes`` (``(n_perm, n)`` group codes,
    -1 = left out; every row has the same left-out set). Empty when fewer than 2 groups."""
    x = np.asarray(x, float)
    codes = np.atleast_2d(np.asarray(permuted_codes))
    if codes.shape[0] == 0 or codes.shape[1] != x.size:
        return np.zeros(0)
    ok = codes[0] >= 0
    n_groups = int(codes.max()) + 1 if codes.size else 0
    if np.unique(codes[0][ok]).size < 2:
        return np.zeros(0)
    xk = x[ok]
    total = ((xk - xk.mean()) ** 2).sum()
    if total <= 0:
        return np.full(codes.shape[0], NAN)
    sums = group_sums_1d(codes, x, n_groups)
    counts = group_sums_1d(codes, np.ones_like(x), n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        between = (
            np.where(counts > 0, sums**2 / np.where(counts > 0, counts, 1), 0.0).sum(1)
            - xk.sum() ** 2 / xk.size
        )
    return 1.0 - (total - between) / total


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
    var = s**2
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


def clustering_table(
    variants: list[dict],
    scores: dict,
    groups: pd.DataFrame,
    labels: dict,
    n_components: int,
    permuted: dict,
) -> pd.DataFrame:
    """C_k of each variant's non-mated subject matrix for the first ``n_components`` components, with
    its null: ``expected_under_null``, the permutation ``null_mean`` and ``p_value`` (``permuted[attribute]``:
    ``(n_perm, n)`` shuffled group codes over all identities; -1 = unknown)."""
    rows = []
    for variant in variants:
        imp = scores[variant["id"]]["impostors"]
        matrix = nonmated_matrix(imp["score_sum"], imp["score_count"])
        coords, ratio, keep = principal_coordinates(matrix)
        kept = groups[keep]
        for attribute in ATTRIBUTES[1:]:
            lab = kept[attribute].to_numpy()
            is_known = np.array([known(g) for g in lab], dtype=bool)
            perm = permuted[attribute][:, keep]
            for k in range(min(n_components, coords.shape[1])):
                null = clustering_null(coords[:, k], perm)
                ck = clustering_index(coords[is_known, k], lab[is_known])
                rows.append(
                    {
                        **labels,
                        "variant": variant["id"],
                        "mask_kind": variant["kind"],
                        "mask_colour": variant["colour"],
                        "attribute": attribute,
                        "component": k + 1,
                        "explained_variance": float(ratio[k]),
                        "n_subjects": int(is_known.sum()),
                        "n_groups": int(np.unique(lab[is_known]).size),
                        "clustering_index": ck,
                        "null_mean": float(np.nanmean(null)) if np.isfinite(null).any() else np.nan,
                        "null_expected": expected_under_null(
                            int(np.unique(lab[is_known]).size), int(is_known.sum())
                        ),
                        "p_value": p_value(ck, null),
                        "n_perm": int(null.size),
                    }
                )
    return pd.DataFrame(rows)
