"""Face detection and 68-point landmarks, once per original image.

dlib's HOG detector finds the face on a copy downscaled to ``max_side`` (speed); the 68-point shape
predictor then runs at full resolution. Every image yields exactly one row: ``ok`` with landmarks, or
a failure to acquire (``no_face``, ``multiple_faces``, ``unreadable``, ``missing_file``, ``too_large``)
with its detail. Masked variants reuse these landmarks, so detection never runs twice per image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from maskaudit.imageio import try_read_rgb
from maskaudit.progress import progress
from maskaudit.tsv import read_tsv, write_tsv
from maskaudit.usage import stage
from maskaudit.weights import find_weights

log = logging.getLogger(__name__)

LANDMARKS_FILE = "shape_predictor_68_face_landmarks.dat"
N_LANDMARKS = 68


@dataclass
class Detection:
    status: str  # "ok" or a failure-to-acquire reason
    detail: str = ""
    n_faces: int = 0
    width: int = 0
    height: int = 0
    box: tuple = (np.nan,) * 4  # x1, y1, x2, y2 at full resolution
    score: float = np.nan
    landmarks: np.ndarray = field(
        default_factory=lambda: np.full((N_LANDMARKS, 2), np.nan, np.float32)
    )


class HogLandmarks:
    """dlib's HOG face detector, run on a copy downscaled to ``max_side`` (speed), and the 68-point
    shape predictor, run at full resolution: the one place both the workflow's :class:`FaceDetector`
    and the ``maskaudit mask`` command's :class:`maskaudit.masks.faces.FaceFinder` find faces."""

    def __init__(
        self, *, upsample: int, max_side: int, min_score: float, weights_dir: str | None = None
    ):
        self.upsample, self.max_side, self.min_score = upsample, max_side, min_score
        import dlib  # here, not at module level: rules that only read landmarks run without dlib

        self._dlib = dlib
        self.predictor_path = find_weights(LANDMARKS_FILE, weights_dir)
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(self.predictor_path))

    def boxes(self, rgb: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
        """``(box, score)`` of every face HOG reports (``run`` with ``min_score``), in its order; ``box`` is
        ``(x1, y1, x2, y2)`` at full resolution."""
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = (
            cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            if scale < 1
            else rgb
        )
        rects, scores, _ = self._detector.run(small, self.upsample, self.min_score)
        return [
            (tuple(int(round(v / scale)) for v in (r.left(), r.top(), r.right(), r.bottom())), s)
            for r, s in zip(rects, scores)
        ]

    def landmarks(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The 68 points (float32 pixels) of the face in ``box``, predicted on the full-resolution image."""
        shape = self._predictor(rgb, self._dlib.rectangle(*box))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


class FaceDetector(HogLandmarks):
    """dlib HOG detector + 68-point shape predictor, with one-face-per-image semantics."""

    def __init__(
        self,
        *,
        upsample: int = 1,
        max_side: int = 800,
        min_score: float = 0.3,
        weights_dir: str | None = None,
    ):
        super().__init__(
            upsample=upsample, max_side=max_side, min_score=min_score, weights_dir=weights_dir
        )

    def describe(self) -> dict:
        return {
            "detector": "dlib HOG (get_frontal_face_detector)",
            "dlib": self._dlib.__version__,
            "upsample": self.upsample,
            "max_side": self.max_side,
            "min_score": self.min_score,
            "landmarks": LANDMARKS_FILE,
        }

    def detect(self, rgb: np.ndarray) -> Detection:
        h, w = rgb.shape[:2]
        found = [(box, s) for box, s in self.boxes(rgb) if s >= self.min_score]
        if not found:
            return Detection("no_face", "HOG found no face", 0, w, h)
        if len(found) > 1:
            scores = ", ".join(f"{s:.2f}" for _, s in found)
            detail = f"HOG found {len(found)} faces (scores {scores})"
            return Detection("multiple_faces", detail, len(found), w, h)
        box, score = found[0]
        return Detection("ok", "", 1, w, h, box, float(score), self.landmarks(rgb, box))


def detect_images(
    paths: list[str], image_ids: list[str], detector: FaceDetector
) -> list[Detection]:
    """Detect every image; unreadable files become failure rows, never exceptions."""
    out = []
    for image_id, path in progress(
        list(zip(image_ids, paths)), desc="detect+landmarks", unit="img"
    ):
        rgb, failed = try_read_rgb(path)
        if failed:
            log.warning("%s: %s", image_id, failed)
            out.append(Detection(failed.reason, failed.detail))
            continue
        with stage("detect"):
            det = detector.detect(rgb)
        if det.status != "ok":
            log.warning("%s: %s (%s)", image_id, det.status, det.detail)
        out.append(det)
    return out


def acquisition_table(image_ids: list[str], detections: list[Detection]) -> pd.DataFrame:
    """One human-readable row per image: status, reason, face count, size, box and HOG score."""
    return pd.DataFrame(
        {
            "image_id": image_ids,
            "status": [d.status for d in detections],
            "detail": [d.detail for d in detections],
            "n_faces": [d.n_faces for d in detections],
            "width": [d.width for d in detections],
            "height": [d.height for d in detections],
            **{
                # float even when no row failed,
                name: np.array([d.box[k] for d in detections], dtype=float)
                for k, name in enumerate(("box_x1", "box_y1", "box_x2", "box_y2"))
            },  # so shards print alike
            "hog_score": [round(d.score, 4) for d in detections],
        }
    )


def save_landmarks(path: str | Path, image_ids: list[str], detections: list[Detection]) -> None:
    with stage("write"):
        np.savez_compressed(
            path,
            image_id=np.array(image_ids, dtype=str),
            status=np.array([d.status for d in detections], dtype=str),
            landmarks=np.stack([d.landmarks for d in detections]).astype(np.float32)
            if detections
            else np.zeros((0, N_LANDMARKS, 2), np.float32),
        )


def shard_rows(n_images: int, index: int, count: int) -> np.ndarray:
    """Row numbers of shard ``index`` (1-based) of ``count``: contiguous, in manifest order, sizes
    differing by at most one, so concatenating shards 1..count gives back the manifest's order."""
    if not 1 <= index <= count:
        raise ValueError(
            f"shard {index} of {count} does not exist (shards are numbered 1..{count})"
        )
    return np.array_split(np.arange(n_images), count)[index - 1]


def merge_shards(
    landmark_paths: list[str | Path],
    acquisition_paths: list[str | Path],
    landmarks_out: str | Path,
    acquisition_out: str | Path,
    expected_ids: list[str],
) -> pd.DataFrame:
    """Concatenate shard files (in shard order) into one landmarks file and one acquisition table,
    checking that together they hold exactly ``expected_ids`` in that order."""
    parts = []
    for path in landmark_paths:
        with np.load(path) as z:
            parts.append({k: z[k] for k in ("image_id", "status", "landmarks")})
    merged = {k: np.concatenate([p[k] for p in parts]) for k in ("image_id", "status", "landmarks")}
    if merged["image_id"].tolist() != list(expected_ids):
        raise ValueError(
            f"detection shards hold {len(merged['image_id'])} images, not the manifest's "
            f"{len(expected_ids)} in order: rerun detect_faces for this dataset"
        )
    with stage("write"):
        np.savez_compressed(landmarks_out, **merged)
    # bytes kept
    table = pd.concat([read_tsv(p, dtype=str) for p in acquisition_paths], ignore_index=True)
    write_tsv(table, acquisition_out)
    return table


def load_landmarks(path: str | Path) -> dict[str, np.ndarray | None]:
    """Map image id -> (68, 2) landmarks, or ``None`` where acquisition failed."""
    with np.load(path) as z:
        return {
            i: (lm if s == "ok" else None)
            for i, s, lm in zip(z["image_id"], z["status"], z["landmarks"])
        }


def load_statuses(path: str | Path) -> dict[str, str]:
    with np.load(path) as z:
        return dict(zip(z["image_id"].tolist(), z["status"].tolist()))


def face_chip(
    rgb: np.ndarray, landmarks: np.ndarray, size: int = 150, padding: float = 0.25
) -> np.ndarray:
    """dlib's aligned face chip (rotated upright, scaled) from stored 68-point landmarks."""
    import dlib

    xs, ys = landmarks[:, 0], landmarks[:, 1]
    rect = dlib.rectangle(int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
    parts = dlib.points([dlib.point(int(round(x)), int(round(y))) for x, y in landmarks])
    return dlib.get_face_chip(
        rgb, dlib.full_object_detection(rect, parts), size=size, padding=padding
    )
