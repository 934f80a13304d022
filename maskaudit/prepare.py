"""The shared preparation stage: decode, align and resize every face once, for every model that takes it.

An embedding job used to decode each stored image, align the face and run deepface's ``resize_image``
itself, one face after another, at several milliseconds of CPU per face -- 10 to 300 times the
forward pass of the light networks (issue 20). Those steps depend only on the alignment
(``shared_landmarks``: the dlib chip's size and padding; ``end_to_end``: the detector, its alignment
and expansion) and on the network's input geometry, never on its weights or normalisation. So the
``prepare_faces`` rule does them once per :func:`prep_id`, (dataset, variant), in its own CPU job
(worker processes over the job's cores), and stores:

- ``faces``: an uncompressed ``.npy`` of ``(n_slots, h, w, 3)`` float32 BGR faces, exactly what
  :func:`maskaudit.models.base.resize_face` returns (deepface's resize with black padding, before
  ``normalize_input``), one slot per image the stage was asked to prepare (manifest status ``ok``);
  the slot of an image that failed stays zero. float32 and not uint8: the bilinear resize of a
  [0, 1] crop is not a multiple of 1/255, and storing it rounded would change every vector.
- ``meta``: an ``.npz`` with, per manifest row, ``image_id``, ``status`` (``ok`` or the failure to
  acquire: the dataset's reason, ``unreadable``..., ``no_face`` without landmarks, ``model_no_face``
  where the detector found none), ``slot`` (-1 without a face), the face details the embedding cache
  keeps (``face_box``, ``face_confidence``, ``n_faces``, ``detail``) and ``describe`` (JSON).

The embedding job (:func:`maskaudit.embed.embed_prepared`) memory-maps ``faces``, streams batches
from a background thread, normalises (face by face on a CPU, exactly as deepface; vectorised on the
device on CUDA) and runs the forward pass: its vectors equal the old per-job path's bit for bit on
the CPU (tests/unit/test_embed_prepared.py).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from maskaudit.progress import progress
from maskaudit.usage import stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrepCard:
    """The fields of a model card that determine its faces (a rule's params; picklable for workers)."""

    input_size: tuple[int, int]
    chip_padding: float = 0.25
    detector: str = "opencv"
    align: bool = True
    expand_percentage: int = 0
    normalization: str = "base"  # unused: the stage stops before normalize_input
    id: str = "prepare"

    @classmethod
    def of(cls, card) -> PrepCard:
        return cls(
            tuple(card.input_size),
            card.chip_padding,
            card.detector,
            card.align,
            card.expand_percentage,
        )

    def params(self) -> dict:
        """Plain values for a rule's params (a change reruns the preparation and what depends on it)."""
        return {
            "input_size": list(self.input_size),
            "chip_padding": self.chip_padding,
            "detector": self.detector,
            "align": self.align,
            "expand_percentage": self.expand_percentage,
        }


def prep_id(card, alignment: str) -> str:
    """Folder name of the faces a model takes: everything that determines them, nothing else, so the
    models with the same alignment and input geometry share one preparation."""
    from maskaudit.models.located import locator_id

    w, h = card.input_size
    if alignment == "shared_landmarks":
        return f"landmarks-pad{card.chip_padding:g}-{w}x{h}"
    source = "skip" if card.detector == "skip" else locator_id(card.detector, card.align)
    return f"{source}-expand{card.expand_percentage}-{w}x{h}"


def describe_prep(card, alignment: str) -> dict:
    """What the prepared faces are, for the meta file and the embedding sidecars."""
    out = {
        "prep_id": prep_id(card, alignment),
        "alignment": alignment,
        "input_size": list(card.input_size),
        "resize": "deepface resize_image (black padding), float32 BGR, before normalize_input",
    }
    if alignment == "shared_landmarks":
        out["chip"] = f"dlib.get_face_chip, {max(card.input_size)} px, padding {card.chip_padding}"
    else:
        out.update(
            detector=card.detector, align=card.align, expand_percentage=card.expand_percentage
        )
    return out


def prepare_workers(setting, threads: int, n_images: int, min_per_worker: int = 100) -> int:
    """Worker processes for a ``prepare_faces`` job: ``setting`` (config ``embedding.loader_workers``)
    as a number, or ``"auto"``: one per thread, but none (this process alone) when the job has one
    thread or fewer than ``min_per_worker`` images per thread, where starting processes (about 2 s
    each, their imports) costs more than it saves."""
    if setting == "auto":
        return threads if threads > 1 and n_images >= min_per_worker * threads else 0
    return int(setting)


def prepare_images(
    card,
    alignment: str,
    table: pd.DataFrame,
    landmarks: dict,
    located: dict | None,
    out: np.ndarray | None = None,
    workers=0,
    chunk: int = 64,
) -> tuple[np.ndarray, dict]:
    """Decode, align and resize the rows of ``table`` whose status is ``ok`` into ``out`` (a
    ``(n_ok, h, w, 3)`` float32 array or memory map; allocated when ``None``), ``workers`` processes
    (or a running pool) at a time. Returns ``(out, meta)`` (the module's ``meta`` fields but
    ``describe``). ``end_to_end`` needs ``located`` (the ``locate_faces`` rule's regions) unless the
    detector is ``skip``."""
    from maskaudit.embed import _load_batch, iter_loaded
    from maskaudit.models.base import FacePipeline

    if alignment == "end_to_end" and located is None and card.detector != "skip":
        raise ValueError(
            "end_to_end preparation needs the detector's stored regions (locate_faces)"
        )
    n = len(table)
    w, h = card.input_size
    status = list(table.status)
    todo = [i for i, s in enumerate(status) if s == "ok"]
    if out is None:
        out = np.zeros((len(todo), h, w, 3), np.float32)
    if out.shape != (len(todo), h, w, 3):
        raise ValueError(f"prepared array has shape {out.shape}, needs {(len(todo), h, w, 3)}")
    meta = {
        "image_id": np.array(list(table.image_id), dtype=str),
        "slot": np.full(n, -1, np.int64),
        "face_box": np.full((n, 4), np.nan, np.float32),
        "face_confidence": np.full(n, np.nan, np.float32),
        "n_faces": np.zeros(n, np.int32),
    }
    detail = [""] * n
    pipeline = FacePipeline(card, alignment, normalize=False)
    position = {i: k for k, i in enumerate(todo)}
    batches = [todo[k : k + chunk] for k in range(0, len(todo), chunk)]
    located = located or {}
    if workers:
        loaded = iter_loaded(pipeline, table, batches, landmarks, located, workers)
    else:
        loaded = (
            _load_batch(
                pipeline,
                [
                    (
                        i,
                        table.path.iloc[i],
                        landmarks.get(table.image_id.iloc[i]),
                        located.get(table.image_id.iloc[i]),
                    )
                    for i in batch
                ],
            )
            for batch in batches
        )
    for _batch in progress(
        batches, desc=f"prepare faces ({prep_id(card, alignment)})", unit="img", size=len
    ):
        with stage("prepare"):
            items = next(loaded)
        for i, face, prepared in items:
            if face is None:  # unreadable: ``prepared`` holds the reason and the message
                status[i] = prepared[0]
                log.warning("%s: %s", table.image_id.iloc[i], prepared[1])
                continue
            meta["face_box"][i], meta["face_confidence"][i] = face.box, face.confidence
            meta["n_faces"][i], detail[i] = face.n_faces, face.detail
            if face.status != "ok":
                status[i] = face.status
                log.warning("%s: %s (%s)", table.image_id.iloc[i], face.status, face.detail)
                continue
            out[position[i]] = prepared
            meta["slot"][i] = position[i]
    meta["status"] = np.array(status, dtype=str)
    meta["detail"] = np.array(detail, dtype=str)
    return out, meta


class _FaceFile:
    """Writes slots of an uncompressed ``.npy`` of faces through plain file writes (in slot order they
    are sequential), so the job's memory stays one batch, whatever the file's size (a memory map would
    count every page written in the job's resident memory)."""

    def __init__(self, path, shape):
        self.shape = shape
        np.lib.format.open_memmap(
            str(path), mode="w+", dtype=np.float32, shape=shape
        ).flush()  # header, zeros
        self.offset = _data_offset(path)
        self.size = int(np.prod(shape[1:])) * 4
        self.fh = open(path, "r+b")

    def __setitem__(self, slot: int, face: np.ndarray) -> None:
        self.fh.seek(self.offset + slot * self.size)
        self.fh.write(np.ascontiguousarray(face, dtype=np.float32).tobytes())

    def close(self) -> None:
        self.fh.close()


def _data_offset(path) -> int:
    with open(path, "rb") as fh:
        fmt = np.lib.format
        (fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0) else fmt.read_array_header_2_0)(
            fh
        )
        return fh.tell()


def write_prepared(
    faces_path,
    meta_path,
    card,
    alignment: str,
    table: pd.DataFrame,
    landmarks: dict,
    located: dict | None,
    workers=0,
) -> dict:
    """Run :func:`prepare_images` straight into the uncompressed ``.npy`` at ``faces_path`` and write
    the meta ``.npz``; returns the meta."""
    w, h = card.input_size
    n_ok = int((table.status == "ok").sum())
    faces = _FaceFile(faces_path, (n_ok, h, w, 3))
    try:
        _, meta = prepare_images(
            card, alignment, table, landmarks, located, out=faces, workers=workers
        )
    finally:
        faces.close()
    with stage("write"):
        np.savez(
            meta_path,
            describe=np.array(json.dumps(describe_prep(card, alignment), sort_keys=True)),
            **meta,
        )
    return meta


def load_prepared(faces_path, meta_path) -> tuple[np.ndarray, dict]:
    """``(faces, meta)``: the faces memory-mapped read-only, the meta as arrays (``describe`` a dict)."""
    faces = np.load(str(faces_path), mmap_mode="r")
    with np.load(meta_path) as z:
        meta = {k: z[k] for k in z.files}
    meta["describe"] = json.loads(str(meta["describe"]))
    return faces, meta


def check_prepared(meta: dict, card, alignment: str, image_ids=None) -> None:
    """Refuse prepared faces made for another geometry or alignment, or for another manifest."""
    if meta["describe"]["prep_id"] != prep_id(card, alignment):
        raise ValueError(
            f"prepared faces are {meta['describe']['prep_id']}, model {card.id} needs {prep_id(card, alignment)}"
        )
    if image_ids is not None and list(meta["image_id"]) != list(image_ids):
        raise ValueError("prepared faces were made from another manifest (image ids differ)")
