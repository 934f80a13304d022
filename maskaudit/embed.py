"""Embedding caches: one ``.npz`` per (model, dataset, variant) plus a JSON sidecar.

The cache holds every image id of the dataset in manifest order. Images that failed acquisition
(no face, unreadable, mask not rendered) keep a row of NaN and their reason, so later stages count
them instead of losing them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from maskaudit.imageio import ImageReadError, read_rgb
from maskaudit.progress import progress

log = logging.getLogger(__name__)


def embed_images(model, table: pd.DataFrame, landmarks: dict, batch_size: int) -> tuple[np.ndarray, list[str]]:
    """Embed the rows of ``table`` (image_id, path, status) whose status is ``ok``.

    Returns the ``(N, dim)`` matrix in table order (NaN rows for failures) and the per-row status.
    """
    vectors = np.full((len(table), model.card.dim), np.nan, dtype=np.float32)
    status = list(table.status)
    todo = [i for i, s in enumerate(status) if s == "ok"]
    batches = [todo[k:k + batch_size] for k in range(0, len(todo), batch_size)]
    for batch in progress(batches, desc=f"embed {model.card.id}", unit="img", size=len):
        images, marks, rows = [], [], []
        for i in batch:
            row = table.iloc[i]
            try:
                images.append(read_rgb(row.path))
            except ImageReadError as exc:
                status[i] = exc.reason
                log.warning("%s: %s", row.image_id, exc)
                continue
            marks.append(landmarks[row.image_id])
            rows.append(i)
        if rows:
            vectors[rows] = model.embed(images, marks)
    return vectors, status


def save_cache(path: str | Path, image_ids: list[str], vectors: np.ndarray, status: list[str], sidecar: dict) -> None:
    path = Path(path)
    np.savez_compressed(path, image_id=np.array(image_ids, dtype=str), vectors=vectors,
                        status=np.array(status, dtype=str))
    sidecar = {**sidecar, "n_images": len(image_ids), "n_embedded": int(sum(s == "ok" for s in status))}
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")


def load_cache(path: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """``(image_ids, vectors, status)``; failed rows are NaN vectors with a non-``ok`` status."""
    with np.load(path) as z:
        return z["image_id"].tolist(), z["vectors"], z["status"].tolist()
