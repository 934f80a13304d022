"""Landmark-anchored mask outlines, built in a face-aligned frame.

Face frame (units of the interocular distance ``s``): origin at the nose bridge (dlib point 27),
``u`` along the eye line (left-eye centre, points 36-41, towards right-eye centre, 42-47), ``v``
perpendicular to it, pointing towards the chin. Building outlines there makes them independent of
in-plane rotation (roll) and face size; :meth:`FaceFrame.to_image` maps them back to pixels.

Every outline has a top edge that starts at a nose anchor set by the coverage level, runs out to the
jaw on both sides and is clamped below the lower eyelids; the sides follow the jaw contour (points
0-16) pushed outwards, and the bottom passes below the chin (point 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MASK_KINDS = ("surgical", "n95", "cloth")
COVERAGE_LEVELS = ("high", "medium", "low")

# Per kind: top-edge exponent (higher = sharper tent at the nose), drop of the top edge from the nose
# anchor to the jaw, and outward offsets of the outline from the jaw at the sides and at the chin.
_KIND = {
    "surgical": {"k": 3.0, "drop": 0.22, "side": 0.05, "chin": 0.14, "box": 0.06},
    "n95": {"k": 2.0, "drop": 0.0, "side": 0.03, "chin": 0.12, "box": 0.0},
    "cloth": {"k": 1.7, "drop": 0.32, "side": 0.03, "chin": 0.11, "box": 0.0},
}
_DROP_SCALE = {"high": 1.0, "medium": 0.7, "low": 0.25}
_EYE_MARGIN = 0.12  # top edge stays this far (frame units, and at least 2 px) below the lower eyelids


@dataclass(frozen=True)
class FaceFrame:
    """Similarity frame: ``image = origin + scale * (u * ex + v * ey)``."""

    origin: np.ndarray
    ex: np.ndarray
    ey: np.ndarray
    scale: float

    def to_frame(self, pts: np.ndarray) -> np.ndarray:
        d = np.asarray(pts, float) - self.origin
        return np.stack([d @ self.ex, d @ self.ey], axis=-1) / self.scale

    def to_image(self, uv: np.ndarray) -> np.ndarray:
        uv = np.asarray(uv, float)
        return self.origin + self.scale * (uv[..., :1] * self.ex + uv[..., 1:] * self.ey)

    @property
    def roll_deg(self) -> float:
        return float(np.degrees(np.arctan2(self.ex[1], self.ex[0])))


@dataclass(frozen=True)
class MaskGeometry:
    """A mask outline in frame units plus the anchors that the renderer's shading uses."""

    frame: FaceFrame
    outline: np.ndarray  # (K, 2) closed outline, frame units, first point not repeated
    top: float  # v of the nose anchor (top of the mask)
    nose_u: float  # u of the nose line at the anchor
    bottom: float  # largest v of the outline (below the chin)
    seam: np.ndarray  # (M, 2) centre line from the nose anchor to below the chin, frame units
    loops: tuple  # ear-loop polylines, frame units (surgical only)

    def polygon(self) -> np.ndarray:
        return self.frame.to_image(self.outline)


def validate_landmarks(landmarks) -> np.ndarray:
    """Return landmarks as a float64 (68, 2) array or raise ValueError."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(f"landmarks must be a (68, 2) array of dlib 68-point (x, y) pixels, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("landmarks must be finite (no NaN or inf)")
    return pts


def face_frame(landmarks: np.ndarray) -> FaceFrame:
    """Face-aligned frame from the eye centres and the nose bridge (point 27)."""
    pts = validate_landmarks(landmarks)
    left, right = pts[36:42].mean(0), pts[42:48].mean(0)
    scale = float(np.linalg.norm(right - left))
    if not scale > 1e-6:
        raise ValueError("landmarks are degenerate: the two eye centres (points 36-41, 42-47) coincide")
    ex = (right - left) / scale
    ey = np.array([-ex[1], ex[0]])
    if (pts[8] - pts[27]) @ ey < 0:  # mirrored landmark order: keep v pointing at the chin
        ey = -ey
    return FaceFrame(pts[27].copy(), ex, ey, scale)


def _nose_anchor(q: np.ndarray, coverage: str) -> float:
    """v of the top edge on the nose line for a coverage level (NIST FRVT 6A style)."""
    y28, y29, y30, y33 = q[28, 1], q[29, 1], q[30, 1], q[33, 1]
    lip = q[50:53, 1].min()
    if coverage == "high":  # on the nose bridge, between points 28 and 29
        return min(0.5 * (y28 + y29), y30 - 0.15)
    if coverage == "medium":  # just above the nose tip (point 30)
        return min(y29 + 0.45 * (y30 - y29), y30 - 0.06)
    return max(y33 + 0.4 * (lip - y33), y30 + 0.08)  # low: under the nose, above the upper lip


def _jaw_offset(q: np.ndarray, side: float, chin: float, box: float = 0.0, n: int = 120) -> np.ndarray:
    """Jaw contour 0..16 resampled by arc length, smoothed, pushed outwards: ``side`` where the jaw runs
    vertically, ``chin`` under the chin, plus ``box`` at the 45-degree lower corners."""
    jaw = q[0:17]
    t = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(jaw, axis=0), axis=1))])
    ts = np.linspace(0.0, t[-1], n)
    pts = np.stack([np.interp(ts, t, jaw[:, 0]), np.interp(ts, t, jaw[:, 1])], axis=1)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.5) ** 2)
    padded = np.pad(pts, ((6, 6), (0, 0)), mode="reflect", reflect_type="odd")
    pts = np.stack([np.convolve(padded[:, i], kernel / kernel.sum(), "valid") for i in (0, 1)], axis=1)
    tang = np.gradient(pts, axis=0)
    tang /= np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tang[:, 1], tang[:, 0]], axis=1)  # outward for a jaw running 0 -> 8 -> 16
    down = np.clip(normal[:, 1], 0.0, 1.0)
    off = side + (chin - side) * down**2 + box * 2 * np.abs(normal[:, 0]) * down
    return pts + off[:, None] * normal


def _cut(curve: np.ndarray, level: float) -> tuple[np.ndarray, int]:
    """First point where ``curve`` reaches v >= level (interpolated) and the index after it; the
    curve's lowest point if it never gets there (degenerate landmarks)."""
    reached = curve[:, 1] >= level
    if not reached.any():
        idx = int(np.argmax(curve[:, 1]))
        return curve[idx].copy(), idx + 1
    idx = int(np.argmax(reached))
    if idx == 0:
        return curve[0].copy(), 1
    a, b = curve[idx - 1], curve[idx]
    w = (level - a[1]) / max(b[1] - a[1], 1e-9)
    return a + w * (b - a), idx


def _tent(anchor: np.ndarray, corner: np.ndarray, k: float, n: int = 24) -> np.ndarray:
    """Top edge from the nose anchor to a side corner: v eases as 1 - (1 - t)^k (tented at the nose)."""
    t = np.linspace(0.0, 1.0, n)
    return np.stack([anchor[0] + t * (corner[0] - anchor[0]), anchor[1] + (corner[1] - anchor[1]) * (1 - (1 - t) ** k)], 1)


def _cup(q, jaw, top, nose_u, bottom, n=120):
    """N95 cup: super-ellipse pointed at the nose, 0.95x the jaw width between nose and mouth, bottom half
    kept inside the offset jaw contour so it hugs the chin."""
    cy = max(0.5 * (q[33, 1] + q[48:68, 1].mean()), top + 0.3)
    left, right = _cut(jaw, cy)[0][0], _cut(jaw[::-1], cy)[0][0]
    th = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    a = 0.95 * np.where(c < 0, nose_u - left, right - nose_u)
    b = np.where(s < 0, cy - top, bottom - cy)
    p = np.where(s < 0, 1.8, 2.4)  # super-ellipse exponent: slightly pointed top, fuller bottom
    cup = np.stack([nose_u + a * np.sign(c) * np.abs(c) ** (2 / p), cy + b * np.sign(s) * np.abs(s) ** (2 / p)], 1)
    low = np.argmax(jaw[:, 1])
    for half, side in ((jaw[: low + 1], cup[:, 0] < nose_u), (jaw[low:][::-1], cup[:, 0] >= nose_u)):
        sel = side & (cup[:, 1] > cy)
        lim = np.interp(cup[sel, 1], np.maximum.accumulate(half[:, 1]), half[:, 0])
        cup[sel, 0] = np.maximum(cup[sel, 0], lim) if half[0, 0] < nose_u else np.minimum(cup[sel, 0], lim)
    kernel = np.ones(7) / 7.0  # circular smoothing removes the kink where the jaw clamp starts
    return np.stack([np.convolve(np.pad(cup[:, i], 3, mode="wrap"), kernel, "valid") for i in (0, 1)], 1)


def _clamp_below_eyes(outline: np.ndarray, q: np.ndarray, margin: float) -> np.ndarray:
    """Push every outline point that lies over an eye's (widened) span below that eye's lower lid."""
    out = outline.copy()
    for eye in (q[36:42], q[42:48]):
        lo, hi, floor = eye[:, 0].min() - 0.15, eye[:, 0].max() + 0.15, eye[:, 1].max() + margin
        hit = (out[:, 0] >= lo) & (out[:, 0] <= hi) & (out[:, 1] < floor)
        out[hit, 1] = floor
    return out


def mask_geometry(landmarks: np.ndarray, kind: str, coverage: str = "high") -> MaskGeometry:
    """Outline and anchors of a mask of ``kind`` at nose ``coverage`` for 68 dlib landmarks."""
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    if coverage not in COVERAGE_LEVELS:
        raise ValueError(f"coverage must be one of {COVERAGE_LEVELS}, got {coverage!r}")
    frame = face_frame(landmarks)
    q = frame.to_frame(landmarks)
    par = _KIND[kind]
    top = _nose_anchor(q, coverage)
    nose_v = np.maximum.accumulate(q[[27, 28, 29, 30, 33], 1])
    nose_u = float(np.interp(top, nose_v, q[[27, 28, 29, 30, 33], 0]))
    jaw = _jaw_offset(q, par["side"], par["chin"], par["box"])
    bottom = float(max(jaw[:, 1].max(), q[8, 1] + par["chin"]))
    if kind == "n95":
        outline = _cup(q, jaw, top, nose_u, bottom)
    else:
        corner_v = min(top + par["drop"] * _DROP_SCALE[coverage], bottom - 0.5)
        left, i0 = _cut(jaw, corner_v)
        right, i1 = _cut(jaw[::-1], corner_v)
        i1 = len(jaw) - i1
        anchor = np.array([nose_u, top])
        outline = np.concatenate([_tent(anchor, right, par["k"])[::-1], _tent(anchor, left, par["k"])[1:], jaw[i0:i1]])
    outline = _clamp_below_eyes(outline, q, max(_EYE_MARGIN, 2.0 / frame.scale))
    chin_u = q[8, 0]
    sv = np.linspace(top, bottom, 32)
    seam = np.stack([nose_u + (chin_u - nose_u) * (sv - top) / max(bottom - top, 1e-9), sv], 1)
    loops = _ear_loops(q, jaw, corner_v, bottom) if kind == "surgical" else ()
    return MaskGeometry(frame, outline, float(top), nose_u, bottom, seam, loops)


def _ear_loops(q: np.ndarray, jaw: np.ndarray, corner_v: float, bottom: float) -> tuple:
    """Quadratic curves from the upper and lower side corners out to the ears (beyond points 0 / 16)."""
    loops, t = [], np.linspace(0.0, 1.0, 16)[:, None]
    for sign, ear_idx, side in ((-1.0, 0, jaw), (1.0, 16, jaw[::-1])):
        upper = _cut(side, corner_v + 0.04)[0]
        lower = _cut(side, 0.5 * (upper[1] + bottom))[0]
        ear = q[ear_idx] + np.array([0.12 * sign, 0.15])
        for start, bend in ((upper, -0.05), (lower, 0.3)):
            ctrl = ear + np.array([0.0, bend])
            curve = (1 - t) ** 2 * start + 2 * t * (1 - t) * ctrl + t**2 * ear
            if np.min(np.linalg.norm(curve[:, None] - q[None, 36:48], axis=2)) > 0.3:
                loops.append(curve)
    return tuple(loops)


def mask_polygon(landmarks: np.ndarray, kind: str, coverage: str = "high") -> np.ndarray:
    """(K, 2) float64 mask outline in image pixel coordinates (pure geometry, no randomness)."""
    return mask_geometry(landmarks, kind, coverage).polygon()


def check_placement(alpha: np.ndarray, landmarks: np.ndarray, coverage: str = "high") -> dict:
    """Which landmarks a rendered mask covers (alpha >= 0.5 at the rounded pixel).

    ``covers_nose_tip``: points 30 and 33 covered. It is a requirement for high/medium coverage; for
    ``low`` it is only reported (and ``placement_ok`` instead requires point 30 to be uncovered).
    ``eyes_clear``: no eye point (36-47) has alpha > 0.05. Landmarks outside the image are skipped.
    ``coverage_fraction``: mean alpha inside the convex hull of all 68 landmarks, clipped to the image.
    """
    alpha = np.asarray(alpha)
    if alpha.ndim != 2:
        raise ValueError(f"alpha must be an HxW array, got shape {alpha.shape}")
    if coverage not in COVERAGE_LEVELS:
        raise ValueError(f"coverage must be one of {COVERAGE_LEVELS}, got {coverage!r}")
    pts = validate_landmarks(landmarks)
    h, w = alpha.shape
    ij = np.rint(pts).astype(np.int64)
    inside = (ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)
    val = np.full(68, np.nan)
    val[inside] = alpha[ij[inside, 1], ij[inside, 0]]

    def all_(idx, test):  # skipped (outside) points never fail
        v = val[list(idx)]
        return bool(np.all(test(v[~np.isnan(v)])))

    res = {
        "covers_nose_tip": all_((30, 33), lambda v: v >= 0.5),
        "covers_mouth": all_(range(48, 68), lambda v: v >= 0.5),
        "covers_chin": all_((8,), lambda v: v >= 0.5),
        "eyes_clear": all_(range(36, 48), lambda v: v <= 0.05),
        "coverage_fraction": _hull_mean(alpha, pts),
    }
    nose_ok = all_((30,), lambda v: v < 0.5) if coverage == "low" else res["covers_nose_tip"]
    res["placement_ok"] = bool(nose_ok and res["covers_mouth"] and res["covers_chin"] and res["eyes_clear"])
    return res


def _hull_mean(alpha: np.ndarray, pts: np.ndarray) -> float:
    h, w = alpha.shape
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    x0, y0 = np.clip(hull.min(axis=(0, 1)), 0, [w, h])
    x1, y1 = np.clip(hull.max(axis=(0, 1)) + 1, 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    region = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(region, hull - np.array([x0, y0], np.int32), 1)
    sel = region.astype(bool)
    return float(alpha[y0:y1, x0:x1][sel].mean()) if sel.any() else 0.0
