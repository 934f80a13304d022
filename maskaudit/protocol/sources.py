"""Where a system's similarities come from: embedding caches or a comparisons file.

The contract of both is in :mod:`maskaudit.protocol`.

Both kinds become a :class:`SimilaritySource` that hands out float32 similarity blocks
(probes x gallery, NaN = not compared / failed), so scoring has one code path:

* ``kind="embedding"``: similarities are computed chunk by chunk from the probe and gallery
  caches with one matrix product per block: ``-distance`` for Euclidean models, the cosine
  similarity ``1 - d`` for cosine models. A failed image is a NaN row (probe) or column (gallery).
* ``kind="comparison"``: the vendor stage's ``results/comparisons/{model}/{dataset}/{variant}.npz``
  (``probe_id``, ``gallery_id``, ``similarity`` (P, G) float32, ``probe_status``,
  ``gallery_status``) and its ``.json`` sidecar (``system``, ``similarity_scale``,
  ``raw_direction``, ``threshold`` in similarity units, ``threshold_source``, ``n_calls``,
  ``cached_calls``). NaN = not compared. 1:1 scores only: a vendor's 1:N search answers are a
  separate array (``search_similarity`` with ``search_probe_status`` / ``search_gallery_status``,
  only the returned candidates filled). The sidecar's ``identification.array`` says where 1:N comes
  from: ``search_similarity`` (the vendor's own search), ``similarity`` (the full 1:1 matrix was
  compared) or null (1:N not run; ``identification.reason`` says why). Verification,
  re-identification and impostors always read ``similarity``; identification reads the pointed
  array, and is reported as not run (never as hits or misses) when there is none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from maskaudit.embed import load_cache

HIGHER, LOWER = "higher_is_same", "lower_is_same"


def embedding_similarity_threshold(card) -> tuple[float, float, str]:
    """``(similarity threshold, raw threshold, raw direction)`` for an embedding model's card."""
    if card.metric == "euclidean":
        return -float(card.threshold), float(card.threshold), LOWER
    if card.metric == "cosine":
        return 1.0 - float(card.threshold), float(card.threshold), LOWER
    raise ValueError(
        f"model {card.id}: unknown metric {card.metric!r}; use 'euclidean' or 'cosine'"
    )


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
    threshold: float  # the system's own decision threshold, similarity units
    threshold_source: str
    raw_direction: str
    system: str
    _block: object = field(repr=False, default=None)
    _to_raw: object = field(repr=False, default=None)
    # where 1:N comes from: "similarity" (the block above; every embedding model), "search_similarity"
    # (a separate array of search answers, with its own statuses) or "not_run" (with the reason)
    identification: str = "similarity"
    identification_reason: str = ""
    search_probe_status: np.ndarray | None = None
    search_gallery_status: np.ndarray | None = None
    _search_block: object = field(repr=False, default=None)
    # (P, G) bool: the 1:1 cells the system was asked to compare (None = every cell)
    planned: np.ndarray | None = field(repr=False, default=None)

    def block(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """float32 similarities of probes ``rows`` x gallery ``cols`` (all columns when None)."""
        return self._block(np.asarray(rows), None if cols is None else np.asarray(cols))

    def to_raw(self, similarity):
        return self._to_raw(np.asarray(similarity, dtype=float))

    def search_block(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """float32 1:N search answers of probes ``rows`` x gallery ``cols`` (``identification ==
        "search_similarity"``)."""
        return self._search_block(np.asarray(rows), None if cols is None else np.asarray(cols))

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
        probe_ids=np.asarray(probes[0], dtype=str),
        probe_status=np.asarray(probes[2], dtype=object),
        gallery_ids=np.asarray(gallery[0], dtype=str),
        gallery_status=np.asarray(gallery[2], dtype=object),
        threshold=thr,
        threshold_source=card.threshold_source,
        raw_direction=direction,
        system=card.id,
        _block=block,
        _to_raw=to_raw,
    )


def from_embedding_caches(probes_path, gallery_path, card) -> SimilaritySource:
    return from_embeddings(load_cache(probes_path), load_cache(gallery_path), card)


REQUIRED_ARRAYS = ("probe_id", "gallery_id", "similarity", "probe_status", "gallery_status")
REQUIRED_SIDECAR = ("system", "similarity_scale", "raw_direction", "threshold", "threshold_source")


def from_comparisons(npz_path, sidecar_path=None) -> SimilaritySource:
    """Read a comparisons file (contract: :mod:`maskaudit.protocol`); errors name the file and the missing entry."""
    npz_path = Path(npz_path)
    sidecar_path = Path(sidecar_path) if sidecar_path else npz_path.with_suffix(".json")
    with np.load(npz_path, allow_pickle=False) as z:
        missing = [k for k in REQUIRED_ARRAYS if k not in z.files]
        if missing:
            raise ValueError(
                f"{npz_path}: missing array(s) {missing}; a comparisons file needs {list(REQUIRED_ARRAYS)}"
            )
        arrays = {k: z[k] for k in REQUIRED_ARRAYS}
    meta = json.loads(sidecar_path.read_text())
    missing = [k for k in REQUIRED_SIDECAR if k not in meta]
    if missing:
        raise ValueError(
            f"{sidecar_path}: missing key(s) {missing}; the sidecar needs {list(REQUIRED_SIDECAR)}"
        )
    sim = np.asarray(arrays["similarity"], dtype=np.float32)
    p, g = len(arrays["probe_id"]), len(arrays["gallery_id"])
    if sim.shape != (p, g):
        raise ValueError(
            f"{npz_path}: similarity has shape {sim.shape}, expected ({p}, {g}) = (probes, gallery)"
        )
    direction = meta["raw_direction"]
    if direction not in (HIGHER, LOWER):
        raise ValueError(
            f"{sidecar_path}: raw_direction {direction!r}; use {HIGHER!r} or {LOWER!r}"
        )

    def to_raw(s):  # the seam's convention: a distance d was delivered as similarity -d
        return s if direction == HIGHER else -s

    mode, reason, search = _identification_source(npz_path, sidecar_path, meta, (p, g))
    return SimilaritySource(
        probe_ids=np.asarray(arrays["probe_id"], dtype=str),
        probe_status=np.asarray(arrays["probe_status"], dtype=object),
        gallery_ids=np.asarray(arrays["gallery_id"], dtype=str),
        gallery_status=np.asarray(arrays["gallery_status"], dtype=object),
        threshold=float(meta["threshold"]),
        threshold_source=str(meta["threshold_source"]),
        raw_direction=direction,
        system=str(meta["system"]),
        _block=_blocks(sim),
        _to_raw=to_raw,
        identification=mode,
        identification_reason=reason,
        search_probe_status=search.get("search_probe_status"),
        search_gallery_status=search.get("search_gallery_status"),
        _search_block=_blocks(search["search_similarity"])
        if "search_similarity" in search
        else None,
        planned=search.get("planned"),
    )


def _blocks(matrix: np.ndarray):
    def block(rows, cols):
        out = matrix[rows]
        return out if cols is None else out[:, cols]

    return block


SEARCH_ARRAYS = ("search_similarity", "search_probe_status", "search_gallery_status")


def _identification_source(
    npz_path, sidecar_path, meta: dict, shape: tuple
) -> tuple[str, str, dict]:
    """``(mode, reason, arrays)`` from the sidecar's ``identification`` pointer.

    A file without the pointer (older vendor files, hand-made files) ranks 1:N from ``similarity``
    as before. ``arrays`` holds the search arrays when the pointer names them, and ``planned``.
    """
    info = meta.get("identification")
    extra = {}
    with np.load(npz_path, allow_pickle=False) as z:
        if "planned" in z.files:
            extra["planned"] = np.asarray(z["planned"], dtype=bool)
        if not isinstance(info, dict):
            return "similarity", "", extra
        array = info.get("array")
        if array is None:
            reason = str(info.get("reason") or "1:N not run")
            return "not_run", reason, extra
        if array == "similarity":
            return "similarity", "", extra
        if array != "search_similarity":
            raise ValueError(
                f"{sidecar_path}: identification.array {array!r}; use 'search_similarity', 'similarity' "
                f"or null (1:N not run)"
            )
        missing = [k for k in SEARCH_ARRAYS if k not in z.files]
        if missing:
            raise ValueError(
                f"{npz_path}: the sidecar points 1:N at search_similarity but the file lacks {missing}"
            )
        extra.update({k: z[k] for k in SEARCH_ARRAYS})
    extra["search_similarity"] = np.asarray(extra["search_similarity"], dtype=np.float32)
    if extra["search_similarity"].shape != shape:
        raise ValueError(
            f"{npz_path}: search_similarity has shape {extra['search_similarity'].shape}, expected "
            f"{shape} = (probes, gallery)"
        )
    for k in ("search_probe_status", "search_gallery_status"):
        extra[k] = np.asarray(extra[k], dtype=object)
    return "search_similarity", "", extra


def open_source(inputs: dict, card) -> SimilaritySource:
    """The source for a scoring rule's named inputs: ``comparisons`` (and ``comparisons_sidecar``) for a
    comparison-only system, else ``probes`` and ``gallery`` embedding caches (workflow/rules/common.smk:
    ``score_inputs``)."""
    if "comparisons" in inputs:
        return from_comparisons(inputs["comparisons"], inputs.get("comparisons_sidecar"))
    return from_embedding_caches(inputs["probes"], inputs["gallery"], card)
