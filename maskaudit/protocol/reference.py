"""The naive float64 reference for the scoring pass: plain-array distances between embeddings.

Not used by the workflow. :mod:`maskaudit.protocol.score` scores in float32 probe chunks; these
whole-matrix float64 functions are the slow, obviously-correct answers its tests
(``tests/unit/test_scoring.py``) and the benchmarks (``bench_pipeline.py``, ``bench_deepface.py``) compare
it against. They live beside the code they check, inside the package, so tests and benchmarks import
them the same way wherever those files sit.
"""

from __future__ import annotations

import numpy as np


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
