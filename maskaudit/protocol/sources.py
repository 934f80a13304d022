"""Where a system's similarities come from: embedding caches or a comparisons file (SEAMS 2-4).

Both kinds become a :class:`SimilaritySource` that hands out float32 similarity blocks
(probes x gallery, NaN = not compared / failed), so scoring has one code path:

* ``kind="embedding"``: similarities are computed chunk by chunk from the probe and gallery
  caches with one matrix product per block: ``-distance`` for Euclidean models, the cosine
  similarity ``1 - d`` for cosine models. A failed image is a NaN row (probe) or column (gallery).
* ``kind="comparison"``: the vendor stage's ``results/comparisons/{model}/{dataset}/{variant}.npz``
  (``probe_id``, ``gallery_id``, ``similarity`` (P, G) float32, ``probe_status``,
  ``gallery_status``) and its ``.json`` sidecar (``system``, ``similarity_scale``,
  ``raw_direction``, ``threshold`` in similarity units, ``threshold_source``, ``n_calls``,
  ``cached_calls``). NaN = not compared; a vendor search fills only the returned candidates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from maskaudit.embed import load_cache

HIGHER, LOWER = "higher_is_same", "lower_is_same"


def score_inputs(card, model: str, dataset: str, variant: str) -> dict[str, str]:
    """Named input files the scoring rule needs for ``card.kind`` (used by ``scoring.smk``)."""
    if getattr(card, "kind", "embedding") == "comparison":
        return {"comparisons": f"results/comparisons/{model}/{dataset}/{variant}.npz",
                "comparisons_sidecar": f"results/comparisons/{model}/{dataset}/{variant}.json"}
    return {"probes": f"results/embeddings/{model}/{dataset}/{variant}.npz",
            "gallery": f"results/embeddings/{model}/{dataset}/none.npz"}


def embedding_similarity_threshold(card) -> tuple[float, float, str]:
    """``(similarity threshold, raw threshold, raw direction)`` for an embedding model's card."""
    if card.metric == "euclidean":
        return -float(card.threshold), float(card.threshold), LOWER
    if card.metric == "cosine":
        return 1.0 - float(card.threshold), float(card.threshold), LOWER
    raise ValueError(f"model {card.id}: unknown metric {card.metric!r}; use 'euclidean' or 'cosine'")


@dataclass
class SimilaritySource:
    """Probe and gallery sides plus a way to get similarity blocks.

    ``raw_direction`` says how ``raw = to_raw(similarity)`` reads: ``lower_is_same`` for distances
    (Euclidean: ``raw = -s``; cosine: ``raw = 1 - s``), ``higher_is_same`` for confidences.
    """

    probe_ids: np.ndarray
    probe_status: np.ndarray
    gallery_ids: np.ndarray
    gallery_status: np.ndarray
    threshold: float              # the system's own decision threshold, similarity units
    threshold_source: str
    raw_direction: str
    system: str
    _block: object = field(repr=False, default=None)
    _to_raw: object = field(repr=False, default=None)

    def block(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """float32 similarities of probes ``rows`` x gallery ``cols`` (all columns when None)."""
        return self._block(np.asarray(rows), None if cols is None else np.asarray(cols))

    def to_raw(self, similarity):
        return self._to_raw(np.asarray(similarity, dtype=float))

    @property
    def threshold_raw(self) -> float:
        return float(self.to_raw(np.array([self.threshold]))[0])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def from_embeddings(probes: tuple, gallery: tuple, card) -> SimilaritySource:
    """``probes``/``gallery``: ``(ids, vectors, status)`` as returned by :func:`maskaudit.embed.load_cache`."""
    thr, _, direction = embedding_similarity_threshold(card)
    a = np.asarray(probes[1], dtype=np.float32)
    b = np.asarray(gallery[1], dtype=np.float32)
    if card.metric == "cosine":
        a, b = _unit(a), _unit(b)

        def block(rows, cols):
            bb = b if cols is None else b[cols]
            return a[rows] @ bb.T

        def to_raw(s):
            return 1.0 - s
    else:
        a_sq, b_sq = (a * a).sum(1), (b * b).sum(1)

        def block(rows, cols):
            bb, bsq = (b, b_sq) if cols is None else (b[cols], b_sq[cols])
            sq = a_sq[rows, None] + bsq[None, :] - 2.0 * (a[rows] @ bb.T)
            return -np.sqrt(np.maximum(sq, 0.0, out=sq), out=sq)

        def to_raw(s):
            return -s
    return SimilaritySource(
        probe_ids=np.asarray(probes[0], dtype=str), probe_status=np.asarray(probes[2], dtype=object),
        gallery_ids=np.asarray(gallery[0], dtype=str), gallery_status=np.asarray(gallery[2], dtype=object),
        threshold=thr, threshold_source=card.threshold_source, raw_direction=direction, system=card.id,
        _block=block, _to_raw=to_raw)


def from_embedding_caches(probes_path, gallery_path, card) -> SimilaritySource:
    return from_embeddings(load_cache(probes_path), load_cache(gallery_path), card)


REQUIRED_ARRAYS = ("probe_id", "gallery_id", "similarity", "probe_status", "gallery_status")
REQUIRED_SIDECAR = ("system", "similarity_scale", "raw_direction", "threshold", "threshold_source")


def from_comparisons(npz_path, sidecar_path=None) -> SimilaritySource:
    """Read a comparisons file (SEAMS 3); errors name the file and the missing entry."""
    npz_path = Path(npz_path)
    sidecar_path = Path(sidecar_path) if sidecar_path else npz_path.with_suffix(".json")
    with np.load(npz_path, allow_pickle=False) as z:
        missing = [k for k in REQUIRED_ARRAYS if k not in z.files]
        if missing:
            raise ValueError(f"{npz_path}: missing array(s) {missing}; a comparisons file needs {list(REQUIRED_ARRAYS)}")
        arrays = {k: z[k] for k in REQUIRED_ARRAYS}
    meta = json.loads(sidecar_path.read_text())
    missing = [k for k in REQUIRED_SIDECAR if k not in meta]
    if missing:
        raise ValueError(f"{sidecar_path}: missing key(s) {missing}; the sidecar needs {list(REQUIRED_SIDECAR)}")
    sim = np.asarray(arrays["similarity"], dtype=np.float32)
    p, g = len(arrays["probe_id"]), len(arrays["gallery_id"])
    if sim.shape != (p, g):
        raise ValueError(f"{npz_path}: similarity has shape {sim.shape}, expected ({p}, {g}) = (probes, gallery)")
    direction = meta["raw_direction"]
    if direction not in (HIGHER, LOWER):
        raise ValueError(f"{sidecar_path}: raw_direction {direction!r}; use {HIGHER!r} or {LOWER!r}")

    def block(rows, cols):
        out = sim[rows]
        return out if cols is None else out[:, cols]

    def to_raw(s):  # the seam's convention: a distance d was delivered as similarity -d
        return s if direction == HIGHER else -s

    return SimilaritySource(
        probe_ids=np.asarray(arrays["probe_id"], dtype=str), probe_status=np.asarray(arrays["probe_status"], dtype=object),
        gallery_ids=np.asarray(arrays["gallery_id"], dtype=str),
        gallery_status=np.asarray(arrays["gallery_status"], dtype=object),
        threshold=float(meta["threshold"]), threshold_source=str(meta["threshold_source"]), raw_direction=direction,
        system=str(meta["system"]), _block=block, _to_raw=to_raw)


def open_source(inputs: dict, card) -> SimilaritySource:
    """The source for a scoring rule's named inputs (:func:`score_inputs`)."""
    if "comparisons" in inputs:
        return from_comparisons(inputs["comparisons"], inputs.get("comparisons_sidecar"))
    return from_embedding_caches(inputs["probes"], inputs["gallery"], card)
