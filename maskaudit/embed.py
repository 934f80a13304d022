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


def embed_images(
    model,
    table: pd.DataFrame,
    landmarks: dict,
    batch_size: int,
    located: dict | None = None,
    workers=0,
) -> tuple[np.ndarray, list[str], dict]:
    """Embed the rows of ``table`` (image_id, path, status) whose status is ``ok``.

    Each image is decoded once; the model finds its face (its own detector in ``end_to_end``, whose
    regions ``located`` may hold already, the dataset's landmarks in ``shared_landmarks``) and the
    faces go through the network ``batch_size`` at a time. Returns the ``(N, dim)`` matrix in table
    order (NaN rows for failures), the per-row status (``model_no_face`` where the model found no face)
    and per-row face details (``face_box`` x, y, w, h; ``face_confidence``; ``n_faces``; ``detail``).

    ``workers`` > 0 decodes, aligns and preprocesses in that many worker processes
    (:func:`iter_loaded`; or give a running ``ProcessPoolExecutor``) while this process runs the
    forward passes, so an accelerator is fed while the CPU works; batches, and so the vectors, are the
    same as with ``workers=0`` (one process, one image after another). Workers need ``located`` in
    ``end_to_end`` (the ``locate_faces`` rule's
    regions); without it the detector runs here, serially.
    """
    n = len(table)
    vectors = np.full((n, model.card.dim), np.nan, dtype=np.float32)
    status = list(table.status)
    faces = {
        "face_box": np.full((n, 4), np.nan, np.float32),
        "face_confidence": np.full(n, np.nan, np.float32),
        "n_faces": np.zeros(n, np.int32),
        "detail": [""] * n,
    }
    todo = [i for i, s in enumerate(status) if s == "ok"]
    batches = [todo[k : k + batch_size] for k in range(0, len(todo), batch_size)]
    if workers and (
        model.alignment == "shared_landmarks"
        or located is not None
        or model.card.detector == "skip"
    ):
        loaded = iter_loaded(model.pipeline(), table, batches, landmarks, located or {}, workers)
    else:
        loaded = (_load_serial(model, table, batch, landmarks, located) for batch in batches)
    pending = (
        None  # the previous batch's rows and vectors, still on the device while this one loads
    )
    for _batch in progress(batches, desc=f"embed {model.card.id}", unit="img", size=len):
        inputs, rows = [], []
        for i, face, prepared in next(loaded):
            if face is None:  # unreadable: ``prepared`` holds the reason and the message
                status[i] = prepared[0]
                log.warning("%s: %s", table.image_id.iloc[i], prepared[1])
                continue
            faces["face_box"][i], faces["face_confidence"][i] = face.box, face.confidence
            faces["n_faces"][i], faces["detail"][i] = face.n_faces, face.detail
            if face.status != "ok":
                status[i] = face.status
                log.warning("%s: %s (%s)", table.image_id.iloc[i], face.status, face.detail)
                continue
            inputs.append(prepared)
            rows.append(i)
        with stage("embed"):
            submitted = (rows, model.submit(inputs)) if rows else None
            if pending:
                vectors[pending[0]] = pending[1]()
        pending = submitted
    if pending:
        with stage("embed"):
            vectors[pending[0]] = pending[1]()
    faces["detail"] = np.array(faces["detail"], dtype=str)
    return vectors, status, faces


def embed_prepared(
    model,
    faces: np.ndarray,
    meta: dict,
    batch_size: int,
    ahead: int | None = None,
    readers: int | None = None,
) -> tuple[np.ndarray, list[str], dict]:
    """Embed faces the ``prepare_faces`` stage stored (:mod:`maskaudit.prepare`): ``faces`` (memory-mapped
    ``(n_slots, h, w, 3)`` resized faces) and ``meta`` (per row: status, slot, face details).

    ``readers`` background threads (default: 4 when the model runs on CUDA, else 1) copy the next
    ``ahead`` batches (default: ``max(2, readers)``) from the file into host buffers
    (:meth:`~maskaudit.models.base.EmbeddingModel.host_buffer`: page-locked on CUDA) while this thread
    submits each batch (:meth:`~maskaudit.models.base.EmbeddingModel.submit_resized`: normalisation and
    forward pass; on CUDA they run on the device while the next batches are read). Returns what
    :func:`embed_images` returns: the vectors in table order (NaN rows for the failures the
    preparation recorded), the per-row status and the face details. The batches are the rows with a
    face, ``batch_size`` at a time, as :func:`embed_images` forms them, so the vectors are the same."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    if readers is None:
        readers = 4 if str(getattr(model, "device", "cpu")).startswith("cuda") else 1
    ahead = max(2, readers) if ahead is None else ahead
    status = [str(s) for s in meta["status"]]
    n = len(status)
    vectors = np.full((n, model.card.dim), np.nan, dtype=np.float32)
    rows = np.flatnonzero(meta["slot"] >= 0)
    batches = [rows[k : k + batch_size] for k in range(0, len(rows), batch_size)]
    buffers = [
        model.host_buffer(min(batch_size, len(rows))) for _ in range(min(ahead + 1, len(batches)))
    ]
    from_file = isinstance(faces, np.memmap)
    face_bytes = int(np.prod(faces.shape[1:])) * faces.itemsize
    local, handles = threading.local(), []

    def read(k):  # batch k into buffer k mod (ahead + 1)
        slots, out = meta["slot"][batches[k]], buffers[k % len(buffers)][: len(batches[k])]
        if not from_file:
            np.take(faces, slots, axis=0, out=out)
            return out
        # straight from the file (page cache) into the buffer, one read per run of consecutive slots: the
        # job's memory stays a few batches, whatever the file's size (the memory map is not touched)
        if not hasattr(local, "fh"):
            local.fh = open(faces.filename, "rb")
            handles.append(local.fh)
        runs = np.flatnonzero(np.diff(slots) != 1) + 1
        flat = out.reshape(len(out), -1).view(np.uint8)
        for a, b in zip(np.concatenate([[0], runs]), np.concatenate([runs, [len(slots)]])):
            local.fh.seek(faces.offset + int(slots[a]) * face_bytes)
            if local.fh.readinto(memoryview(flat[a:b]).cast("B")) != (b - a) * face_bytes:
                raise OSError(f"{faces.filename}: prepared faces file is truncated")
        return out

    try:
        with ThreadPoolExecutor(readers, thread_name_prefix="read-prepared") as reader:
            reads = {k: reader.submit(read, k) for k in range(min(ahead, len(batches)))}
            pending = None  # the previous batch's rows and result function, on the device while this one is read
            for k in progress(
                range(len(batches)),
                desc=f"embed {model.card.id}",
                unit="img",
                size=lambda k: len(batches[k]),
            ):
                with stage("read_wait"):
                    batch = reads.pop(k).result()
                with stage("embed"):
                    submitted = (batches[k], model.submit_resized(batch))
                    if pending:
                        vectors[pending[0]] = pending[1]()
                pending = submitted  # batch k - 1 is done: its buffer may be refilled
                if k + ahead < len(batches):
                    reads[k + ahead] = reader.submit(read, k + ahead)
            if pending:
                with stage("embed"):
                    vectors[pending[0]] = pending[1]()
    finally:
        for fh in handles:
            fh.close()
    details = {
        "face_box": meta["face_box"],
        "face_confidence": meta["face_confidence"],
        "n_faces": meta["n_faces"],
        "detail": meta["detail"],
    }
    return vectors, status, details


def loader_workers(setting, threads: int, device: str) -> int:
    """Loader processes for a job: ``setting`` (config ``embedding.loader_workers``) as a number, or
    ``"auto"``: the job's ``threads`` minus the one that runs the forward passes when the model runs on
    CUDA, and none on a CPU, where the forward pass itself uses the threads."""
    if setting == "auto":
        return max(0, threads - 1) if str(device).startswith("cuda") else 0
    return int(setting)


def _load_serial(model, table, batch, landmarks, located):
    """One batch decoded, aligned and preprocessed in this process (the model's detector runs here
    when ``located`` is missing in ``end_to_end``)."""
    from maskaudit.models.base import prepare_face

    out = []
    for i in batch:
        row = table.iloc[i]
        try:
            with stage("decode"):
                rgb = read_rgb(row.path)
        except ImageReadError as exc:
            out.append((i, None, (exc.reason, str(exc))))
            continue
        with stage("align"):
            face = model.acquire(
                rgb, landmarks.get(row.image_id), (located or {}).get(row.image_id)
            )
        prepared = None
        if face.status == "ok":
            with stage("preprocess"):
                prepared = prepare_face(face.crop, model.card.input_size, model.card.normalization)
            face.crop = None
        out.append((i, face, prepared))
    return out


def _load_batch(pipeline, items):
    """Worker: ``(row, path, landmarks, regions)`` items -> ``(row, Face, input)``; ``(row, None,
    (reason, message))`` for a file that cannot be read."""
    out = []
    for i, path, lm, regions in items:
        try:
            face, prepared = pipeline.load(path, lm, regions)
        except ImageReadError as exc:
            out.append((i, None, (exc.reason, str(exc))))
            continue
        out.append((i, face, prepared))
    return out


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # the job's cores are shared among the workers


def loader_pool(workers: int):
    """``workers`` spawned processes for :func:`iter_loaded` (spawned: the parent may hold CUDA or
    OpenMP state that a fork would copy half-initialised), each with one OpenCV thread."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    )


def iter_loaded(
    pipeline,
    table: pd.DataFrame,
    batches: list[list[int]],
    landmarks: dict,
    located: dict,
    workers,
    ahead: int | None = None,
    min_chunk: int = 4,
):
    """Yield each batch's loaded faces, in order, from ``workers`` processes (a count, or a running
    ``ProcessPoolExecutor`` that is left running).

    Each batch is split into contiguous chunks, one per worker but at least ``min_chunk`` images each
    (fewer, larger tasks cost less to send); at most ``ahead`` batches beyond the one being embedded are
    in flight, which bounds memory (``ahead x batch_size`` network inputs). By default ``ahead`` keeps
    about eight images per worker queued, and at least two batches."""
    from collections import deque
    from contextlib import nullcontext

    owned = isinstance(workers, int)
    count = workers if owned else workers._max_workers
    if ahead is None:
        ahead = max(2, -(-8 * count // max(1, len(batches[0]) if batches else 1)))

    def submit(pool, batch):
        items = [
            (
                i,
                table.path.iloc[i],
                landmarks.get(table.image_id.iloc[i]),
                located.get(table.image_id.iloc[i]),
            )
            for i in batch
        ]
        size = max(min_chunk, -(-len(items) // count))
        return [
            pool.submit(_load_batch, pipeline, items[k : k + size])
            for k in range(0, len(items), size)
        ]

    with loader_pool(workers) if owned else nullcontext(workers) as pool:
        pending = deque(submit(pool, b) for b in batches[: ahead + 1])
        for k in range(len(batches)):
            with stage("loader_wait"):
                chunks = [f.result() for f in pending.popleft()]
            if k + ahead + 1 < len(batches):
                pending.append(submit(pool, batches[k + ahead + 1]))
            yield [item for chunk in chunks for item in chunk]


def save_cache(
    path: str | Path,
    image_ids: list[str],
    vectors: np.ndarray,
    status: list[str],
    sidecar: dict,
    extra: dict | None = None,
) -> None:
    """Write the cache (``image_id``, ``vectors``, ``status`` plus ``extra`` arrays) and its JSON sidecar."""
    path = Path(path)
    with stage("write"):
        np.savez_compressed(
            path,
            image_id=np.array(image_ids, dtype=str),
            vectors=vectors,
            status=np.array(status, dtype=str),
            **(extra or {}),
        )
    failures = pd.Series([s for s in status if s != "ok"], dtype=str).value_counts().sort_index()
    sidecar = {
        **sidecar,
        "n_images": len(image_ids),
        "n_embedded": int(sum(s == "ok" for s in status)),
        "failures": {k: int(v) for k, v in failures.items()},
    }
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
