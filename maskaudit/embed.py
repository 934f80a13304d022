"""Embedding caches: one ``.npz`` per (model, dataset, variant) plus a JSON sidecar.

The cache holds every image id of the dataset in manifest order. Images that failed acquisition
keep a row of NaN and their reason, so later stages count them instead of losing them: the dataset's
detection or reading (``no_face``, ``unreadable``, ...), the mask (``mask_*``) or the model itself
(``model_no_face``: in ``end_to_end`` alignment the model's own detector found no face).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from maskaudit.imageio import ImageReadError, read_rgb
from maskaudit.progress import progress
from maskaudit.usage import stage

log = logging.getLogger(__name__)


def embed_images(model, table: pd.DataFrame, landmarks: dict, batch_size: int,
                 located: dict | None = None) -> tuple[np.ndarray, list[str], dict]:
    """Embed the rows of ``table`` (image_id, path, status) whose status is ``ok``.

    Each image is decoded once; the model finds its face (its own detector in ``end_to_end``, whose
    regions ``located`` may hold already, the dataset's landmarks in ``shared_landmarks``) and the
    faces go through the network
    ``batch_size`` at a time. Returns the ``(N, dim)`` matrix in table order (NaN rows for
    failures), the per-row status (``model_no_face`` where the model found no face) and per-row face
    details (``face_box`` x, y, w, h; ``face_confidence``; ``n_faces``; ``detail``).
    """
    n = len(table)
    vectors = np.full((n, model.card.dim), np.nan, dtype=np.float32)
    status = list(table.status)
    faces = {"face_box": np.full((n, 4), np.nan, np.float32), "face_confidence": np.full(n, np.nan, np.float32),
             "n_faces": np.zeros(n, np.int32), "detail": [""] * n}
    todo = [i for i, s in enumerate(status) if s == "ok"]
    batches = [todo[k:k + batch_size] for k in range(0, len(todo), batch_size)]
    for batch in progress(batches, desc=f"embed {model.card.id}", unit="img", size=len):
        crops, rows = [], []
        for i in batch:
            row = table.iloc[i]
            try:
                with stage("decode"):
                    rgb = read_rgb(row.path)
            except ImageReadError as exc:
                status[i] = exc.reason
                log.warning("%s: %s", row.image_id, exc)
                continue
            with stage("align"):
                face = model.acquire(rgb, landmarks.get(row.image_id), (located or {}).get(row.image_id))
            faces["face_box"][i], faces["face_confidence"][i] = face.box, face.confidence
            faces["n_faces"][i], faces["detail"][i] = face.n_faces, face.detail
            if face.status != "ok":
                status[i] = face.status
                log.warning("%s: %s (%s)", row.image_id, face.status, face.detail)
                continue
            crops.append(face.crop)
            rows.append(i)
        if rows:
            with stage("embed"):
                vectors[rows] = model.represent(crops)
    faces["detail"] = np.array(faces["detail"], dtype=str)
    return vectors, status, faces


def save_cache(path: str | Path, image_ids: list[str], vectors: np.ndarray, status: list[str], sidecar: dict,
               extra: dict | None = None) -> None:
    """Write the cache (``image_id``, ``vectors``, ``status`` plus ``extra`` arrays) and its JSON sidecar."""
    path = Path(path)
    with stage("write"):
        np.savez_compressed(path, image_id=np.array(image_ids, dtype=str), vectors=vectors,
                            status=np.array(status, dtype=str), **(extra or {}))
    failures = pd.Series([s for s in status if s != "ok"], dtype=str).value_counts().sort_index()
    sidecar = {**sidecar, "n_images": len(image_ids), "n_embedded": int(sum(s == "ok" for s in status)),
               "failures": {k: int(v) for k, v in failures.items()}}
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")


def load_cache(path: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """``(image_ids, vectors, status)``; failed rows are NaN vectors with a non-``ok`` status."""
    with np.load(path) as z:
        return z["image_id"].tolist(), z["vectors"], z["status"].tolist()


def load_sidecar(path: str | Path) -> dict:
    """The JSON sidecar of an embedding cache (``.npz`` or ``.json`` path)."""
    return json.loads(Path(path).with_suffix(".json").read_text())


def score_provenance(sidecar: dict) -> dict:
    """Columns a score file carries about the model that produced the vectors (seam for scoring)."""
    return {
        "model_alignment": sidecar.get("alignment", ""),
        "model_detector": sidecar.get("pipeline", {}).get("detector", "shared_landmarks"),
        "model_engine": sidecar.get("engine", ""),
        "deepface_version": sidecar.get("deepface_version", ""),
        "threshold_source": sidecar.get("threshold_source", ""),
    }
