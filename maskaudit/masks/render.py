"""Procedural rendering of surgical, N95 and cloth masks onto a face image.

The outline comes from :mod:`maskaudit.masks.geometry`. Inside its bounding box (the ROI) the mask is
rasterised with supersampling (antialiased alpha), coloured as ``colour * S * L**shading`` and
composited as ``image * (1 - alpha) + mask * alpha``. ``S`` is a kind-specific relief map with mean 1
over the mask (pleats, cup, seams, fabric noise, darker rim); ``L`` is the original image's blurred
luminance relative to its mean under the mask, so the mask keeps the scene lighting but its colour.
All randomness comes from the caller's ``numpy.random.Generator``.

Renders are the same bytes on any x86-64 machine. Floating-point results that differ between CPUs
(numpy's SIMD exp/sin/tanh, BLAS products, OpenCV's dispatched float filters, reduction order) never
decide a pixel directly: landmarks are snapped to 1/64 px and shading to 1/256 on entry; relief,
pattern and lighting are computed in float64 and quantised to 12-bit fixed point (:data:`Q`) before
use; sums (the relief's mean, the lighting reference) are integer; resampling and blurs are integer
or plain float64 arithmetic written out here (no BLAS, no dispatched OpenCV float kernels); the mask
colour is quantised to 1/256 and composited in integer arithmetic,
``out = (roi * (255 - a) + mask * a) / 255`` with ``a`` the 8-bit antialiased coverage.
tests/unit/test_masks_determinism.py perturbs every float input by one ulp and checks committed hashes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .geometry import (
    COVERAGE_LEVELS,
    MASK_KIND_SHAPES,
    MASK_KINDS,
    MaskGeometry,
    check_placement,
    estimate_yaw,
    face_frame,
    mask_geometry,
    outside_fraction,
    validate_landmarks,
)

_RELIEF_PX = (
    64.0  # relief and texture grid: pixels per interocular distance (bounds the cost of big faces)
)
Q = 4096  # fixed point of relief, pattern and lighting: 12 fractional bits
LANDMARK_GRID = 64  # landmarks are snapped to 1/64 px
SHADING_GRID = 256  # shading is snapped to 1/256


def _q(x) -> np.ndarray:
    """``x`` (float64) in fixed point with :data:`Q` steps, as int64."""
    return np.rint(np.asarray(x, np.float64) * Q).astype(np.int64)


@dataclass(frozen=True)
class MaskSpec:
    """What to draw: mask kind, sRGB colour, nose coverage and lighting strength (0 = flat)."""

    kind: str
    colour: tuple[int, int, int]
    coverage: str = "high"
    shading: float = 0.6
    texture: str = "plain"

    def __post_init__(self):
        if not isinstance(self.kind, str) or self.kind not in MASK_KINDS:
            raise ValueError(f"MaskSpec.kind must be one of {MASK_KINDS}, got {self.kind!r}")
        try:
            rgb = tuple(self.colour)
        except TypeError:
            rgb = ()
        if len(rgb) != 3 or not all(
            isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c <= 255
            for c in rgb
        ):
            raise ValueError(
                f"MaskSpec.colour must be three integers in 0..255 (sRGB), got {self.colour!r}"
            )
        object.__setattr__(self, "colour", tuple(int(c) for c in rgb))
        if not isinstance(self.coverage, str) or self.coverage not in COVERAGE_LEVELS:
            raise ValueError(
                f"MaskSpec.coverage must be one of {COVERAGE_LEVELS}, got {self.coverage!r}"
            )
        ok = isinstance(self.shading, (int, float, np.integer, np.floating)) and not isinstance(
            self.shading, bool
        )
        if not ok or not 0.0 <= float(self.shading) <= 1.0:
            raise ValueError(f"MaskSpec.shading must be a number in [0, 1], got {self.shading!r}")
        object.__setattr__(self, "shading", float(self.shading))
        if not isinstance(self.texture, str) or self.texture not in TEXTURES:
            raise ValueError(f"MaskSpec.texture must be one of {TEXTURES}, got {self.texture!r}")


@dataclass(frozen=True)
class MaskRender:
    image: np.ndarray  # HxWx3 uint8 RGB, masked
    alpha: np.ndarray  # HxW float32 in [0, 1]
    diagnostics: (
        dict  # check_placement() keys plus roll_deg, interocular_px, n_vertices, roi_pixels
    )


def render_mask(
    image: np.ndarray, landmarks: np.ndarray, spec: MaskSpec, rng: np.random.Generator
) -> MaskRender:
    """Draw ``spec`` on ``image`` (HxWx3 uint8 RGB) anchored to 68 dlib ``landmarks`` (x, y pixels)."""
    img = np.asarray(image)
    if (
        img.ndim != 3
        or img.shape[2] != 3
        or img.dtype != np.uint8
        or img.shape[0] == 0
        or img.shape[1] == 0
    ):
        raise ValueError(
            f"image must be a non-empty HxWx3 uint8 RGB array, got {img.dtype} {img.shape}"
        )
    if not isinstance(spec, MaskSpec):
        raise TypeError(f"spec must be a MaskSpec, got {type(spec).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    # the record's roll, yaw and placement use the landmarks as given
    given = validate_landmarks(landmarks)
    snapped = np.rint(given * LANDMARK_GRID) / LANDMARK_GRID
    shading = round(spec.shading * SHADING_GRID) / SHADING_GRID
    geom = mask_geometry(snapped, spec.kind, spec.coverage)
    s, (h, w) = geom.frame.scale, img.shape[:2]
    poly, loops = geom.polygon(), [geom.frame.to_image(c) for c in geom.loops]
    parts = [geom.frame.to_image(c) for c in geom.parts]
    loop_w = max(1.0, geom.loop_width * s)
    pts = np.concatenate([poly, *loops, *parts])
    x0, y0 = (int(np.clip(math.floor(c - loop_w - 2), 0, n)) for c, n in zip(pts.min(0), (w, h)))
    x1, y1 = (int(np.clip(math.ceil(c + loop_w + 3), 0, n)) for c, n in zip(pts.max(0), (w, h)))
    out, alpha = img.copy(), np.zeros((h, w), np.float32)
    grey = bool((img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all())
    if x1 > x0 and y1 > y0:
        off = np.array([x0, y0], float)
        body, full = _rasterise(
            poly - off,
            [c - off for c in loops],
            [c - off for c in parts],
            loop_w,
            (y1 - y0, x1 - x0),
        )
        if full.any():
            roi = img[y0:y1, x0:x1]
            relief_q, pattern_q = _relief(geom, spec, rng, body, x0, y0)
            light_q = _lighting(roi, full, s, shading)
            # mask colour from the quantised maps (float64, elementwise: the same on every CPU)
            relief = relief_q / Q
            lit = relief * (light_q / Q)
            colour = np.array(spec.colour, np.float64)
            rgb = lit[..., None] * colour
            if pattern_q is not None:  # printed/woven texture: blend towards a contrasting shade
                accent = colour * 0.55 if colour.mean() > 110 else colour + 0.5 * (255.0 - colour)
                rgb += (lit * (pattern_q / Q))[..., None] * (accent - colour)
            # lets pleats and seams show on near-black masks
            rgb += (24.0 * (relief - 1.0))[..., None]
            # highlights roll off instead of clipping, so white masks keep their relief
            hot = rgb > 230.0
            rgb[hot] = 230.0 + 25.0 * np.tanh((rgb[hot] - 230.0) / 25.0)
            mask = np.rint(np.clip(rgb, 0, 255) * 256).astype(np.int32)  # 1/256 steps
            if grey:  # a black-and-white photo gets a black-and-white mask (same luminance, integer weights)
                mask[:] = (
                    (mask[..., 0] * 299 + mask[..., 1] * 587 + mask[..., 2] * 114 + 500) // 1000
                )[..., None]
            # 8-bit coverage; every term below fits int32 (< 2**25)
            a = full.astype(np.int32)[..., None]
            num = roi.astype(np.int32) * 256 * (255 - a) + mask * a
            out[y0:y1, x0:x1] = ((num + 255 * 128) // (255 * 256)).astype(np.uint8)
            alpha[y0:y1, x0:x1] = full.astype(np.float32) / np.float32(255.0)
    diagnostics = check_placement(alpha, given, spec.coverage)
    diagnostics.update(
        roll_deg=face_frame(given).roll_deg,
        yaw_deg=estimate_yaw(given),
        outside_fraction=outside_fraction(poly, w, h),
        interocular_px=float(s),
        n_vertices=int(len(poly)),
        roi_pixels=int(max(x1 - x0, 0) * max(y1 - y0, 0)),
    )
    return MaskRender(out, alpha, diagnostics)


def _rasterise(poly, loops, parts, loop_w, shape):
    """8-bit coverage (0..255) of the polygon alone and with loops/straps and extra parts: binary fill
    at 2-4x, then box-filtered down (antialiased edges; an integer mean of uint8 samples)."""
    h, w = shape
    ss = 4 if h * w <= 250_000 else 2
    lim = 8 * max(h, w) + 64  # keeps fixed-point coordinates far from int32 overflow

    def fixed(p):  # pixel centres at integers; 4 fractional bits
        return np.rint(((np.clip(p, -lim, lim) + 0.5) * ss - 0.5) * 16).astype(np.int32)

    canvas = np.zeros((h * ss, w * ss), np.uint8)
    cv2.fillPoly(canvas, [fixed(poly)], 255, cv2.LINE_8, shift=4)
    body = _block_mean(canvas, ss)
    if not loops and not parts:
        return body, body
    if parts:
        cv2.fillPoly(canvas, [fixed(c) for c in parts], 255, cv2.LINE_8, shift=4)
    if loops:
        cv2.polylines(
            canvas,
            [fixed(c) for c in loops],
            False,
            255,
            max(1, round(loop_w * ss)),
            cv2.LINE_8,
            shift=4,
        )
    full = _block_mean(canvas, ss)
    return body, full


def _block_mean(canvas: np.ndarray, k: int) -> np.ndarray:
    """Rounded integer mean of each ``k x k`` block of a uint8 image (exact on every machine)."""
    h, w = canvas.shape[0] // k, canvas.shape[1] // k
    sums = np.zeros((h, w), np.uint16)  # at most 16 x 255
    for i in range(k):
        for j in range(k):
            sums += canvas[i : h * k : k, j : w * k : k]
    return ((sums + k * k // 2) // (k * k)).astype(np.uint8)


def _upsample(
    a: np.ndarray, w: int, h: int, scale: tuple[float, float] | None = None
) -> np.ndarray:
    """Bilinear resampling of ``a`` to ``(h, w)`` with pixel centres aligned (as ``cv2.INTER_LINEAR``),
    in plain float64 arithmetic; ``scale``: input pixels per output pixel (x, y), else the size ratio."""
    hs, ws = a.shape
    sx, sy = scale or (ws / w, hs / h)

    def axis(n_out, n_in, step):
        x = np.clip((np.arange(n_out, dtype=np.float64) + 0.5) * step - 0.5, 0.0, n_in - 1)
        i0 = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
        return i0, np.minimum(i0 + 1, n_in - 1), x - i0

    y0, y1, ty = axis(h, hs, sy)
    x0, x1, tx = axis(w, ws, sx)
    a = np.asarray(a, np.float64)
    top = a[y0][:, x0] * (1.0 - tx) + a[y0][:, x1] * tx
    bottom = a[y1][:, x0] * (1.0 - tx) + a[y1][:, x1] * tx
    return top * (1.0 - ty)[:, None] + bottom * ty[:, None]


def _bicubic(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``grid`` sampled at float coordinates with the cubic convolution kernel (a = -0.75, as
    ``cv2.INTER_CUBIC``) and reflected borders, in plain float64 arithmetic."""
    hs, ws = grid.shape
    grid = np.asarray(grid, np.float64)

    def weights(t):
        a = -0.75
        w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
        w1 = ((a + 2) * t - (a + 3)) * t * t + 1
        w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
        return w0, w1, w2, 1.0 - w0 - w1 - w2

    def reflect(i, n):
        period = 2 * n
        i = np.mod(i, period)
        return np.where(i >= n, period - 1 - i, i)

    fx, fy = np.floor(x), np.floor(y)
    wx, wy = weights(x - fx), weights(y - fy)
    ix, iy = fx.astype(np.int64), fy.astype(np.int64)
    out = np.zeros(np.shape(x), np.float64)
    for j in range(4):
        row = reflect(iy + j - 1, hs)
        acc = np.zeros(np.shape(x), np.float64)
        for i in range(4):
            acc += wx[i] * grid[row, reflect(ix + i - 1, ws)]
        out += wy[j] * acc
    return out


def _box_blur(a: np.ndarray, r: int) -> np.ndarray:
    """Rounded integer mean over a ``(2r+1)`` square (edges replicated), separable: exact everywhere."""
    if r <= 0:
        return a
    n = 2 * r + 1
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r + 1, r)
        c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.int64)
        hi = np.take(c, np.arange(n, c.shape[axis]), axis=axis)
        lo = np.take(c, np.arange(0, c.shape[axis] - n), axis=axis)
        a = (hi - lo + n // 2) // n
    return a


def _relief(geom: MaskGeometry, spec: MaskSpec, rng, body, x0: int, y0: int):
    """Kind relief times rim darkening and side fall-off, and the texture's blend weight (``None`` for
    plain), evaluated in float64 on a grid of at most ``_RELIEF_PX`` per interocular distance (bounds the
    cost for large faces), quantised (:data:`Q`) and resized to the ROI; ``body``: 8-bit coverage. Draws
    from ``rng`` never depend on the colour."""
    kind = spec.kind
    h, w = body.shape
    s = geom.frame.scale
    f = min(1.0, _RELIEF_PX / s)
    ws, hs = max(1, round(w * f)), max(1, round(h * f))
    xs = (np.arange(ws, dtype=np.float64) + 0.5) * (w / ws) - 0.5 + x0 - geom.frame.origin[0]
    ys = (np.arange(hs, dtype=np.float64) + 0.5) * (h / hs) - 0.5 + y0 - geom.frame.origin[1]
    (ex0, ex1), (ey0, ey1) = geom.frame.ex, geom.frame.ey
    u = (xs[None, :] * ex0 + ys[:, None] * ex1) / s
    v = (xs[None, :] * ey0 + ys[:, None] * ey1) / s
    # the body's coverage at each grid pixel's centre (integer index arithmetic)
    iy, ix = ((2 * np.arange(hs) + 1) * h) // (2 * hs), ((2 * np.arange(ws) + 1) * w) // (2 * ws)
    small = body[iy][:, ix].astype(np.float64) / 255.0
    px = (w / ws) / s  # one grid pixel in frame units
    inside = small > 0.5
    # chamfer distance (OpenCV computes the 3x3 L2 mask in integers), snapped to 1/64 grid pixel
    dist = (
        np.rint(
            cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3).astype(np.float64) * 64
        )
        / 64
        * px
    )
    relief = _RELIEF[MASK_KIND_SHAPES[kind]["relief"]](u, v, geom, rng, px, dist)
    # form shading of a curved mask: darker rim, sides turning away, lower half facing down
    mid, half = 0.5 * (geom.top + geom.bottom), max(0.5 * (geom.bottom - geom.top), 1e-3)
    relief *= (
        1.0
        - 0.22 * np.exp(-dist / 0.05)
        - 0.16 * np.clip(np.abs(u - geom.nose_u) / 1.2, 0, 1) ** 2
        - 0.10 * np.clip((v - mid) / half, 0, 1) ** 2
    )
    relief_q = _q(relief)  # mean 1 over the body, from an exact integer sum
    total = int(relief_q[inside].sum()) if inside.any() else 0
    relief = relief_q * int(inside.sum()) / total if total > 0 else relief_q / Q
    relief = np.where(inside, relief, 0.95)  # loops, straps and parts: plain band
    # respirator cartridges: darker discs with a bright rim and a centre cap
    for part in geom.parts:
        d = np.hypot(
            *(((u, v) - part.mean(0)[:, None, None]) / (np.ptp(part, 0) / 2)[:, None, None])
        )
        disc = np.clip((1.0 - d) / max(px * 3, 1e-3), 0.0, 1.0)
        relief = relief * (1 - disc) + disc * (
            0.55 + 0.35 * _line(d - 0.85, 0.08, px) + 0.2 * (d < 0.35)
        )
    pattern = None if spec.texture == "plain" else _TEXTURE[spec.texture](u, v, rng, px)
    if pattern is not None:
        pattern = _q(np.where(inside, pattern, 0.0))
    relief = _q(relief)
    if (ws, hs) != (w, h):
        relief = _q(_upsample(relief / Q, w, h))
        if pattern is not None:
            pattern = _q(_upsample(pattern / Q, w, h))
    return relief, pattern


def _lighting(roi, weight, s, shading):
    """(Blurred luminance / its mean under the mask) ** shading in fixed point (:data:`Q`); blur sigma
    ~0.35 interocular. Integer luminance (weights 299/587/114), integer block-mean downscale to ~10 px
    per interocular distance, three integer box blurs (a Gaussian), integer weighted mean under the
    8-bit coverage ``weight``; only the ratio and the power are float64."""
    if shading <= 0.0:
        return np.full(weight.shape, Q, np.int64)
    roi = roi.astype(np.int64)
    lum = roi[..., 0] * 299 + roi[..., 1] * 587 + roi[..., 2] * 114  # 1000 x luminance
    h, w = lum.shape
    k = max(1, int(s // 10))  # ~10 px per interocular distance is plenty for lighting
    hk, wk = -(-h // k), -(-w // k)
    padded = np.pad(lum, ((0, hk * k - h), (0, wk * k - w)), mode="edge")
    small = (padded.reshape(hk, k, wk, k).sum(axis=(1, 3)) + k * k // 2) // (k * k)
    sigma = 0.35 * s / k
    # 3 boxes of 2r+1 ~ Gaussian sigma
    r = max(0, int(round((math.sqrt(4.0 * sigma * sigma + 1.0) - 1.0) / 2.0)))
    for _ in range(3):
        small = _box_blur(small, r)
    blurred = np.rint(_upsample(small, w, h, scale=(1.0 / k, 1.0 / k))).astype(np.int64)
    wsum = int(weight.sum(dtype=np.int64))
    ref = int((blurred * weight).sum(dtype=np.int64)) / max(wsum, 1)
    light = np.power(np.clip(blurred / max(ref, 1000.0), 0.35, 1.8), shading)
    return _q(light)


def _line(d, width, px):
    """Gaussian line profile, never thinner than ~0.7 px."""
    return np.exp(-((d / max(width, 0.7 * px)) ** 2))


def _seam_offset(u, v, g: MaskGeometry):
    return u - np.interp(v, g.seam[:, 1], g.seam[:, 0]).astype(np.float32)


def _surgical(u, v, g, rng, px, dist):
    """Three horizontal pleats (crease, highlight above, shadow below), bowing down at the sides."""
    du, height = u - g.nose_u, g.bottom - g.top
    relief = np.ones_like(u)
    for frac in np.array([0.36, 0.52, 0.68]) + rng.uniform(-0.025, 0.025, 3):
        d = v - (g.top + frac * height + 0.06 * du**2)
        relief += (
            0.09 * _line(d + 0.05, 0.035, px)
            - 0.15 * _line(d, 0.012, px)
            - 0.05 * _line(d - 0.03, 0.02, px)
        )
    relief += 0.07 * np.exp(-((du / 0.12) ** 2) - ((v - g.top) / 0.3) ** 2)  # tented over the nose
    relief -= 0.06 * _line(dist - 0.045, 0.008, px)  # stitched hem
    return relief


def _n95(u, v, g, rng, px, dist):
    """Domed cup (bright centre), centre ridge, moulded rim and a nose-clip bar along the top edge."""
    hu, hv = rng.normal(0.0, 0.04, 2)
    du = u - g.nose_u
    cy = 0.5 * (g.top + g.bottom) + 0.1
    half_w = np.maximum(
        np.where(du < 0, g.nose_u - g.outline[:, 0].min(), g.outline[:, 0].max() - g.nose_u), 0.05
    )
    half_h = np.maximum(np.where(v < cy, cy - g.top, g.bottom - cy), 0.05)
    r2 = ((du - hu) / half_w) ** 2 + ((v - cy - hv) / half_h) ** 2
    relief = 1.0 + 0.16 * (1.0 - np.clip(r2, 0, 1.5))
    ds = _seam_offset(u, v, g)
    relief += 0.07 * _line(ds - 0.03, 0.025, px) - 0.12 * _line(ds, 0.01, px)
    relief += 0.06 * _line(dist - 0.04, 0.015, px)  # moulded rim
    relief += 0.16 * _line(dist - 0.075, 0.02, px) * np.exp(-np.power(du / 0.22, 6))  # nose clip
    return relief


def _kn95(u, v, g, rng, px, dist):
    """Two flat panels meeting at a vertical centre fold (one catches more light), with heat-sealed
    seams along the rim and a nose-clip bar."""
    ds = _seam_offset(u, v, g)
    side = np.tanh(ds / max(px, 0.01))
    relief = 1.0 + 0.06 * side - 0.16 * _line(ds, 0.008, px) + 0.08 * _line(ds + 0.02, 0.015, px)
    relief -= 0.12 * _line(dist - 0.05, 0.006, px)  # welded seam line
    relief += 0.05 * (dist < 0.05)
    # nose clip
    relief += 0.12 * _line(dist - 0.08, 0.02, px) * np.exp(-np.power((u - g.nose_u) / 0.2, 6))
    relief += 0.012 * rng.standard_normal(u.shape, dtype=np.float32)  # non-woven fabric grain
    return relief


def _cloth(u, v, g, rng, px, dist):
    """Low-frequency wrinkles and fine weave noise (seeded), plus a vertical centre seam."""
    step, u0, v0 = 0.25, -2.0, g.top - 0.4
    grid = rng.standard_normal((int((g.bottom + 0.4 - v0) / step) + 4, int(4.0 / step) + 4)).astype(
        np.float32
    )
    wrinkles = _bicubic(grid, (u - u0) / step, (v - v0) / step)
    weave = rng.standard_normal(u.shape, dtype=np.float32)
    ds = _seam_offset(u, v, g)
    period = 0.035  # woven fabric: crossing warp and weft threads, visible on every colour
    threads = np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period)
    relief = 1.0 + 0.045 * wrinkles + 0.02 * weave + (0.05 if px < period / 2 else 0.0) * threads
    relief += 0.05 * _line(np.abs(ds) - 0.03, 0.02, px) - 0.16 * _line(ds, 0.012, px)
    return relief


# Surfaces by name; a mask kind picks one in ``MASK_KIND_SHAPES[kind]["relief"]`` (geometry.py).
_RELIEF = {"surgical": _surgical, "n95": _n95, "kn95": _kn95, "cloth": _cloth}


def _soft(x, px):
    """Antialiased step (0 -> 1 over about one grid pixel)."""
    return np.clip(0.5 + x / max(px, 1e-3), 0.0, 1.0)


def _weave(u, v, rng, px):
    """Basket weave: alternating warp and weft blocks with thread lines, random phase."""
    p = 0.06
    a, b = (u + rng.uniform(0, p)) / p, (v + rng.uniform(0, p)) / p
    block = (np.floor(a) + np.floor(b)) % 2
    thread = 0.5 + 0.5 * np.cos(2 * np.pi * np.where(block > 0, a, b) * 3)
    return 0.35 * block + 0.25 * thread


def _check(u, v, rng, px):
    """Gingham check: overlapping horizontal and vertical bands (0.5 where one, 1 where both)."""
    p = 0.16
    a, b = (u + rng.uniform(0, p)) / p % 1.0, (v + rng.uniform(0, p)) / p % 1.0
    band_u = _soft(0.25 - np.abs(a - 0.5), px / p)
    band_v = _soft(0.25 - np.abs(b - 0.5), px / p)
    return 0.5 * band_u + 0.5 * band_v


def _dots(u, v, rng, px):
    """Polka dots on a staggered grid, random phase."""
    p = 0.14
    a, b = (u + rng.uniform(0, p)) / p, (v + rng.uniform(0, p)) / p
    a = a + 0.5 * (np.floor(b) % 2)
    d = np.hypot(a - np.floor(a) - 0.5, b - np.floor(b) - 0.5) * p
    return _soft(0.035 - d, px)


def _floral(u, v, rng, px):
    """Floral-like print: blossoms (five-lobed rosettes with a centre) scattered on smooth noise."""
    out = np.zeros_like(u)
    lo_u, hi_u, lo_v, hi_v = float(u.min()), float(u.max()), float(v.min()), float(v.max())
    n = int(np.clip((hi_u - lo_u) * (hi_v - lo_v) / 0.05, 1, 400))
    centres = np.stack([rng.uniform(lo_u, hi_u, n), rng.uniform(lo_v, hi_v, n)], 1)
    sizes, turns = rng.uniform(0.05, 0.09, n), rng.uniform(0, 2 * np.pi, n)
    for (cu, cv), r0, t0 in zip(centres, sizes, turns):
        du, dv = u - cu, v - cv
        near = (np.abs(du) < 1.3 * r0) & (np.abs(dv) < 1.3 * r0)
        if not near.any():
            continue
        rr, th = np.hypot(du[near], dv[near]), np.arctan2(dv[near], du[near])
        petal = r0 * (0.55 + 0.45 * np.abs(np.cos(2.5 * (th - t0))))
        val = np.maximum(_soft(petal - rr, px), 0.6 * _soft(0.25 * r0 - rr, px))
        out[near] = np.maximum(out[near], np.where(rr < 0.25 * r0, 0.6, val))
    return out


# The printed/woven textures: one entry per texture, the one place a texture is named (``TEXTURES``
# and the config's ``masks.variants.<id>.texture`` read it). "plain" draws none.
_TEXTURE = {"weave": _weave, "check": _check, "dots": _dots, "floral": _floral}
TEXTURES = ("plain", *_TEXTURE)
