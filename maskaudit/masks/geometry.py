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

# The mask kinds: one entry per kind, the one place a kind is named (``MASK_KINDS`` and the config's
# ``masks.variants.<id>.kind`` read it). Outline parameters (frame units): ``k`` top-edge exponent
# (k > 1: tented at the nose, k < 1: domed like a cup), ``drop`` of the side corners below the nose
# anchor, outward offsets of the lower contour from the jaw at the sides (``side``), under the chin
# (``chin``) and at the 45-degree corners (``box``), and ``width``, the lower contour's horizontal scale
# about the nose line (< 1: narrower than the face). ``fixing``: "loops" (ear loops), "straps" (head
# straps) or None; ``cartridges``: two filter cartridges on the cheeks; ``relief``: the surface
# render.py draws (a key of its ``_RELIEF``: surgical pleats, n95 cup, kn95 fold, cloth wrinkles).
MASK_KIND_SHAPES = {
    "surgical": {
        "k": 3.0,
        "drop": 0.22,
        "side": 0.05,
        "chin": 0.14,
        "box": 0.06,
        "width": 1.0,
        "fixing": "loops",
        "cartridges": False,
        "relief": "surgical",
    },
    "n95": {
        "k": 0.55,
        "drop": 0.30,
        "side": 0.02,
        "chin": 0.10,
        "box": 0.0,
        "width": 0.93,
        "fixing": "straps",
        "cartridges": False,
        "relief": "n95",
    },
    "kn95": {
        "k": 1.15,
        "drop": 0.34,
        "side": 0.04,
        "chin": 0.12,
        "box": 0.03,
        "width": 0.97,
        "fixing": "loops",
        "cartridges": False,
        "relief": "kn95",
    },
    "cloth": {
        "k": 1.7,
        "drop": 0.32,
        "side": 0.03,
        "chin": 0.11,
        "box": 0.0,
        "width": 1.0,
        "fixing": "loops",
        "cartridges": False,
        "relief": "cloth",
    },
    "gas": {
        "k": 0.7,
        "drop": 0.28,
        "side": 0.04,
        "chin": 0.12,
        "box": 0.0,
        "width": 0.95,
        "fixing": "straps",
        "cartridges": True,
        "relief": "n95",
    },
    "wide": {
        "k": 2.2,
        "drop": 0.16,
        "side": 0.12,
        "chin": 0.14,
        "box": 0.10,
        "width": 1.04,
        "fixing": None,
        "cartridges": False,
        "relief": "cloth",
    },
    "round": {
        "k": 0.65,
        "drop": 0.40,
        "side": 0.0,
        "chin": 0.08,
        "box": 0.0,
        "width": 0.86,
        "fixing": None,
        "cartridges": False,
        "relief": "cloth",
    },
}
MASK_KINDS = tuple(MASK_KIND_SHAPES)
COVERAGE_LEVELS = ("high", "medium", "low")
_DROP_SCALE = {"high": 1.0, "medium": 0.7, "low": 0.25}
_EYE_MARGIN = (
    0.12  # top edge stays this far (frame units, and at least 2 px) below the lower eyelids
)
_N_TOP, _N_LOW, _N_JAW = 24, 72, 120  # fixed vertex counts: the outline never changes its length
_SOFT = (
    0.02  # frame units: width of the smooth step used for every "where does the jaw reach v" query
)


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
    # (K, 2) closed outline, frame units, first point not repeated; K fixed per kind
    outline: np.ndarray
    top: float  # v of the nose anchor (top of the mask)
    nose_u: float  # u of the nose line at the anchor
    bottom: float  # largest v of the outline (below the chin)
    seam: np.ndarray  # (M, 2) centre line from the nose anchor to below the chin, frame units
    loops: tuple  # ear loops / straps: open polylines, frame units
    loop_width: float  # their stroke width, frame units
    parts: tuple  # extra closed shapes drawn with the mask (respirator cartridges), frame units
    yaw_deg: float  # estimated head yaw (positive: the face turns towards image left)

    def polygon(self) -> np.ndarray:
        return self.frame.to_image(self.outline)


def validate_landmarks(landmarks) -> np.ndarray:
    """Return landmarks as a float64 (68, 2) array or raise ValueError."""
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (68, 2):
        raise ValueError(
            f"landmarks must be a (68, 2) array of dlib 68-point (x, y) pixels, got shape {pts.shape}"
        )
    if not np.isfinite(pts).all():
        raise ValueError("landmarks must be finite (no NaN or inf)")
    return pts


def face_frame(landmarks: np.ndarray) -> FaceFrame:
    """Face-aligned frame from the eye centres and the nose bridge (point 27)."""
    pts = validate_landmarks(landmarks)
    left, right = pts[36:42].mean(0), pts[42:48].mean(0)
    scale = float(np.linalg.norm(right - left))
    if not scale > 1e-6:
        raise ValueError(
            "landmarks are degenerate: the two eye centres (points 36-41, 42-47) coincide"
        )
    ex = (right - left) / scale
    ey = np.array([-ex[1], ex[0]])
    if (pts[8] - pts[27]) @ ey < 0:  # mirrored landmark order: keep v pointing at the chin
        ey = -ey
    return FaceFrame(pts[27].copy(), ex, ey, scale)


def estimate_yaw(landmarks: np.ndarray) -> float:
    """Head yaw in degrees from where the nose line sits between the jaw's sides (points 0-4, 12-16):
    ``asin(clip((d_left - d_right) / (d_left + d_right)))``, about 0 for a frontal face and +-45 when the
    nose sits halfway to one side. A continuous function of the landmarks (no selection)."""
    q = face_frame(landmarks).to_frame(landmarks)
    nose = q[[27, 28, 29, 30, 33], 0].mean()
    d_left, d_right = nose - q[0:5, 0].mean(), q[12:17, 0].mean() - nose
    ratio = (d_left - d_right) / max(abs(d_left) + abs(d_right), 1e-6)
    return float(np.degrees(np.arcsin(np.clip(ratio, -1.0, 1.0))))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """Logistic step from 0 (x << 0) to 1 (x >> 0), smooth everywhere."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, float)))


def _nose_anchor(q: np.ndarray, coverage: str) -> float:
    """v of the top edge on the nose line for a coverage level (NIST FRVT 6A style). min/max of smooth
    terms: continuous in the landmarks."""
    y28, y29, y30, y33 = q[28, 1], q[29, 1], q[30, 1], q[33, 1]
    lip = q[50:53, 1].min()
    if coverage == "high":  # on the nose bridge, between points 28 and 29
        return min(0.5 * (y28 + y29), y30 - 0.15)
    if coverage == "medium":  # just above the nose tip (point 30)
        return min(y29 + 0.45 * (y30 - y29), y30 - 0.06)
    return max(y33 + 0.4 * (lip - y33), y30 + 0.08)  # low: under the nose, above the upper lip


def _nose_u(q: np.ndarray, v: float) -> float:
    """u of the nose line (27 -> 30, extended) at height ``v``."""
    t = v / max(q[30, 1], 1e-3)  # point 27 is the frame origin
    return float(t * q[30, 0])


def _jaw_offset(q: np.ndarray, side: float, chin: float, box: float = 0.0, n: int = _N_JAW):
    """Jaw contour 0..16 resampled uniformly in arc length ``ts``, smoothed and pushed outwards: ``side``
    where the jaw runs vertically, ``chin`` under the chin, plus ``box`` at the 45-degree lower corners.
    Returns ``(ts, points, s8)`` with ``s8`` the arc parameter of the chin point 8."""
    jaw = q[0:17]
    t = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(jaw, axis=0), axis=1))])
    ts = np.linspace(0.0, t[-1], n)
    pts = np.stack([np.interp(ts, t, jaw[:, 0]), np.interp(ts, t, jaw[:, 1])], axis=1)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.5) ** 2)
    padded = np.pad(pts, ((6, 6), (0, 0)), mode="reflect", reflect_type="odd")
    pts = np.stack(
        [np.convolve(padded[:, i], kernel / kernel.sum(), "valid") for i in (0, 1)], axis=1
    )
    tang = np.gradient(pts, axis=0)
    tang /= np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-tang[:, 1], tang[:, 0]], axis=1)  # outward for a jaw running 0 -> 8 -> 16
    down = np.clip(normal[:, 1], 0.0, 1.0)
    off = side + (chin - side) * down**2 + box * 2 * np.abs(normal[:, 0]) * down
    return ts, pts + off[:, None] * normal, float(t[8])


def _at(ts: np.ndarray, curve: np.ndarray, s) -> np.ndarray:
    """Point(s) of ``curve`` at arc parameter(s) ``s`` (linear interpolation, clamped at the ends)."""
    return np.stack([np.interp(s, ts, curve[:, 0]), np.interp(s, ts, curve[:, 1])], axis=-1)


def _soft_reach(ts: np.ndarray, curve: np.ndarray, s8: float, level: float) -> tuple[float, float]:
    """Arc parameters where the left half (0 -> chin) and the right half (16 -> chin) of ``curve`` reach
    ``v = level``: the smoothed length of each half that lies above the level,
    ``s_left = integral over s < s8 of step((level - v(s)) / soft) ds``. For a half that descends
    monotonically this is its crossing point; unlike "the first index with v >= level" it moves
    continuously with the landmarks even when the jaw is flat or wiggles near the level."""
    ds = ts[1] - ts[0] if len(ts) > 1 else 0.0
    above = _smoothstep((level - curve[:, 1]) / _SOFT)
    on_left = _smoothstep((s8 - ts) / max(ds, 1e-9))
    s_left = float(np.sum(above * on_left) * ds)
    s_right = float(ts[-1] - np.sum(above * (1.0 - on_left)) * ds)
    return s_left, s_right


def _tent(anchor: np.ndarray, corner: np.ndarray, k: float, n: int = _N_TOP) -> np.ndarray:
    """Top edge from the nose anchor to a side corner: v eases as 1 - (1 - t)^k (k > 1 tented at the
    nose, k < 1 domed)."""
    t = np.linspace(0.0, 1.0, n)
    return np.stack(
        [
            anchor[0] + t * (corner[0] - anchor[0]),
            anchor[1] + (corner[1] - anchor[1]) * (1 - (1 - t) ** k),
        ],
        1,
    )


def _clear_the_nose(
    outline: np.ndarray, side: np.ndarray, q: np.ndarray, top: float, margin: float = 0.12
) -> np.ndarray:
    """On a turned head the nose can stick out past the far cheek's contour; push the outline out so it
    passes at least ``margin`` beyond the nose line (27 -> 30 -> 33) on each side, fading out below the
    nose base (and near the top edge's apex). ``side``: +1 for outline points on the right half, -1
    on the left (0 at the chin)."""
    out = outline.copy()
    v = out[:, 1]
    nose = np.interp(
        v, [q[27, 1], q[30, 1], max(q[33, 1], q[30, 1] + 1e-6)], [q[27, 0], q[30, 0], q[33, 0]]
    )
    fade = np.clip((q[33, 1] + 0.15 - v) / 0.15, 0.0, 1.0) * np.clip(
        (v - top - 0.08) / 0.1, 0.0, 1.0
    )
    # how far the point sits inside the nose
    push = np.maximum(side * (nose - out[:, 0]) + margin, 0.0)
    out[:, 0] += side * fade * push
    return out


def _clamp_below_eyes(outline: np.ndarray, q: np.ndarray, margin: float) -> np.ndarray:
    """Lower every outline point to at least each eye's lid floor. The floor applies in full over the
    eye's (widened) span and falls off with slope 3 outside it, so the clamp is continuous in u."""
    out = outline.copy()
    for eye in (q[36:42], q[42:48]):
        lo, hi, floor = eye[:, 0].min() - 0.15, eye[:, 0].max() + 0.15, eye[:, 1].max() + margin
        dist = np.maximum(lo - out[:, 0], 0.0) + np.maximum(out[:, 0] - hi, 0.0)
        out[:, 1] = np.maximum(out[:, 1], floor - 3.0 * dist)
    return out


def mask_geometry(landmarks: np.ndarray, kind: str, coverage: str = "high") -> MaskGeometry:
    """Outline and anchors of a mask of ``kind`` at nose ``coverage`` for 68 dlib landmarks.

    Every vertex is a continuous function of the landmarks (no argmax, threshold or index selection over
    floats), so tiny landmark noise moves the outline by a tiny amount on every CPU.
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    if coverage not in COVERAGE_LEVELS:
        raise ValueError(f"coverage must be one of {COVERAGE_LEVELS}, got {coverage!r}")
    frame = face_frame(landmarks)
    q = frame.to_frame(landmarks)
    par = MASK_KIND_SHAPES[kind]
    # never below the upper lip (smiles)
    top = min(_nose_anchor(q, coverage), q[48:55, 1].min() - 0.08)
    nose_u = _nose_u(q, top)
    ts, jaw, s8 = _jaw_offset(q, par["side"], par["chin"], par["box"])
    jaw[:, 0] = nose_u + par["width"] * (jaw[:, 0] - nose_u)
    bottom = float(max(jaw[:, 1].max(), q[8, 1] + par["chin"]))
    corner_v = min(top + par["drop"] * _DROP_SCALE[coverage], bottom - 0.5)
    # the top edge passes above the mouth corners
    corner_v = max(min(corner_v, q[[48, 54], 1].min() - 0.06), top)
    s_left, s_right = _soft_reach(ts, jaw, s8, corner_v)
    left, right = _at(ts, jaw, s_left), _at(ts, jaw, s_right)
    lower = _at(ts, jaw, np.linspace(s_left, s_right, _N_LOW))
    anchor = np.array([nose_u, top])
    outline = np.concatenate(
        [_tent(anchor, right, par["k"])[::-1], _tent(anchor, left, par["k"])[1:], lower[1:-1]]
    )
    side = np.concatenate(
        [
            np.ones(_N_TOP),
            -np.ones(_N_TOP - 1),
            np.sign(np.linspace(s_left, s_right, _N_LOW)[1:-1] - s8),
        ]
    )
    outline = _clear_the_nose(outline, side, q, top)
    outline = _clamp_below_eyes(outline, q, max(_EYE_MARGIN, 2.0 / frame.scale))
    chin_u = q[8, 0]
    sv = np.linspace(top, bottom, 32)
    seam = np.stack([nose_u + (chin_u - nose_u) * (sv - top) / max(bottom - top, 1e-9), sv], 1)
    loops, loop_w, parts, yaw = (), 0.02, (), estimate_yaw(landmarks)
    if par["fixing"] == "loops":
        loops = _ear_loops(q, ts, jaw, s_left, s_right, s8, bottom, yaw)
    elif par["fixing"] == "straps":
        loops, loop_w = _straps(q, ts, jaw, s_left, s_right, s8, yaw), 0.05
    if par["cartridges"]:
        parts = _cartridges(q, ts, jaw, s_left, s_right, s8)
    return MaskGeometry(frame, outline, float(top), nose_u, bottom, seam, loops, loop_w, parts, yaw)


def _visible(sign: float, yaw: float) -> float:
    """How much of a loop or strap on side ``sign`` (+1 right, -1 left) is visible: all of it up to 10
    degrees of yaw away from that side, none beyond 35 (it runs behind the head); linear between."""
    return float(np.clip(1.0 - (sign * yaw - 10.0) / 25.0, 0.0, 1.0))


def _ear_loops(q, ts, jaw, s_left, s_right, s8, bottom, yaw) -> tuple:
    """Quadratic curves from the upper and lower side corners out to the ears (beyond points 0 / 16),
    cut short on the far side of a turned head."""
    loops = []
    for sign, ear_idx, s_top, s_end in ((-1.0, 0, s_left, s8), (1.0, 16, s_right, s8)):
        t = np.linspace(0.0, _visible(sign, yaw), 16)[:, None]
        upper = _at(ts, jaw, s_top + 0.06 * (s_end - s_top))
        lower = _at(ts, jaw, s_top + 0.55 * (s_end - s_top))
        ear = q[ear_idx] + np.array([0.10 * sign, 0.18])
        for start, bend in ((upper, -0.04), (lower, 0.3)):
            ctrl = ear + np.array([0.0, bend])
            loops.append((1 - t) ** 2 * start + 2 * t * (1 - t) * ctrl + t**2 * ear)
    return tuple(loops)


def _straps(q, ts, jaw, s_left, s_right, s8, yaw) -> tuple:
    """Head straps of a respirator: from the cup's sides straight out past the jaw (towards the ears
    and below them), cut short on the far side of a turned head."""
    straps = []
    for sign, ear_idx, s_top, s_end in ((-1.0, 0, s_left, s8), (1.0, 16, s_right, s8)):
        seen = _visible(sign, yaw)
        for frac, lift in (
            (0.12, -0.05),
            (0.62, 0.75),
        ):  # upper strap over the ear, lower one below it
            start = _at(ts, jaw, s_top + frac * (s_end - s_top))
            end = q[ear_idx] + np.array([0.3 * sign, lift])
            straps.append(start[None, :] + np.linspace(0.0, seen, 12)[:, None] * (end - start))
    return tuple(straps)


def _cartridges(q, ts, jaw, s_left, s_right, s8) -> tuple:
    """Two filter cartridges (ellipses) on the respirator's cheeks, at mouth height."""
    th = np.linspace(0.0, 2 * np.pi, 40, endpoint=False)
    out = []
    for s_top, s_end, sign in ((s_left, s8, -1.0), (s_right, s8, 1.0)):
        rim = _at(ts, jaw, s_top + 0.45 * (s_end - s_top))
        centre = rim + np.array([-0.06 * sign, 0.0])
        out.append(centre + np.stack([0.2 * np.cos(th), 0.26 * np.sin(th)], 1))
    return tuple(out)


def mask_polygon(landmarks: np.ndarray, kind: str, coverage: str = "high") -> np.ndarray:
    """(K, 2) float64 mask outline in image pixel coordinates (pure geometry, no randomness)."""
    return mask_geometry(landmarks, kind, coverage).polygon()


LANDMARK_GROUPS = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose_bridge": range(27, 31),
    "nose_tip": range(31, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}


def check_placement(alpha: np.ndarray, landmarks: np.ndarray, coverage: str = "high") -> dict:
    """Which landmarks a rendered mask covers (alpha >= 0.5 at the rounded pixel).

    ``covers_nose_tip``: points 30 and 33 covered. It is a requirement for high/medium coverage; for
    ``low`` it is only reported (and ``placement_ok`` instead requires point 30 to be uncovered).
    ``eyes_clear``: no eye point (36-47) has alpha > 0.05. A landmark outside the image counts as NOT
    covered, so a face cut off by the frame never passes; ``required_in_frame`` says whether the
    nose tip (high/medium), mouth and chin points all lie inside the image, ``alpha_max`` whether
    anything was drawn at all (a zero-alpha mask never passes).
    ``covered_groups``: comma-separated landmark groups (:data:`LANDMARK_GROUPS`) with at least half of
    their points covered. ``coverage_fraction``: mean alpha inside the convex hull of all 68 landmarks
    (the face region), clipped to the image.
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
    val = np.zeros(68)  # outside the image: not covered
    val[inside] = alpha[ij[inside, 1], ij[inside, 0]]

    def all_(idx, test):
        return bool(np.all(test(val[list(idx)])))

    required = [8, *range(48, 68)] + ([] if coverage == "low" else [30, 33])
    alpha_max = float(alpha.max()) if alpha.size else 0.0
    res = {
        "covers_nose_tip": all_((30, 33), lambda v: v >= 0.5),
        "covers_mouth": all_(range(48, 68), lambda v: v >= 0.5),
        "covers_chin": all_((8,), lambda v: v >= 0.5),
        "eyes_clear": bool(np.all(val[36:48][inside[36:48]] <= 0.05)),
        "required_in_frame": bool(inside[required].all()),
        "alpha_max": alpha_max,
        "covered_groups": ",".join(
            g for g, idx in LANDMARK_GROUPS.items() if np.mean(val[list(idx)] >= 0.5) >= 0.5
        ),
        "coverage_fraction": _hull_mean(alpha, pts),
    }
    nose_ok = all_((30,), lambda v: v < 0.5) if coverage == "low" else res["covers_nose_tip"]
    res["placement_ok"] = bool(
        alpha_max > 0
        and res["required_in_frame"]
        and nose_ok
        and res["covers_mouth"]
        and res["covers_chin"]
        and res["eyes_clear"]
    )
    return res


def outside_fraction(polygon: np.ndarray, width: int, height: int) -> float:
    """Share of the area of ``polygon`` (pixels) that lies outside the ``width`` x ``height`` image,
    rasterised at ~0.5% of the polygon's size (0 when it is fully inside)."""
    poly = np.asarray(polygon, float)
    lo, hi = poly.min(0), poly.max(0)
    if lo[0] >= 0 and lo[1] >= 0 and hi[0] <= width - 1 and hi[1] <= height - 1:
        return 0.0
    f = 200.0 / max(float((hi - lo).max()), 1.0)
    size = np.ceil((hi - lo) * f).astype(int) + 2
    canvas = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(canvas, [np.rint((poly - lo) * f).astype(np.int32)], 1)
    yy, xx = np.nonzero(canvas)
    if not len(xx):
        return 0.0
    x, y = xx / f + lo[0], yy / f + lo[1]
    out = (x < -0.5) | (x > width - 0.5) | (y < -0.5) | (y > height - 0.5)
    return float(out.mean())


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
