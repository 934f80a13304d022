"""Procedural rendering of surgical, N95 and cloth masks onto a face image.

The outline comes from :mod:`maskaudit.masks.geometry`. Inside its bounding box (the ROI) the mask is
rasterised with supersampling (antialiased alpha), coloured as ``colour * S * L**shading`` and
composited as ``image * (1 - alpha) + mask * alpha``. ``S`` is a kind-specific relief map with mean 1
over the mask (pleats, cup, seams, fabric noise, darker rim); ``L`` is the original image's blurred
luminance relative to its mean under the mask, so the mask keeps the scene lighting but its colour.
All randomness comes from the caller's ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .geometry import COVERAGE_LEVELS, MASK_KINDS, MaskGeometry, check_placement, mask_geometry, outside_fraction

TEXTURES = ("plain", "weave", "check", "dots", "floral")
_RELIEF_PX = 64.0  # relief and texture grid: pixels per interocular distance (bounds the cost of big faces)


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
        if len(rgb) != 3 or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb):
            raise ValueError(f"MaskSpec.colour must be three integers in 0..255 (sRGB), got {self.colour!r}")
        object.__setattr__(self, "colour", tuple(int(c) for c in rgb))
        if not isinstance(self.coverage, str) or self.coverage not in COVERAGE_LEVELS:
            raise ValueError(f"MaskSpec.coverage must be one of {COVERAGE_LEVELS}, got {self.coverage!r}")
        ok = isinstance(self.shading, (int, float, np.integer, np.floating)) and not isinstance(self.shading, bool)
        if not ok or not 0.0 <= float(self.shading) <= 1.0:
            raise ValueError(f"MaskSpec.shading must be a number in [0, 1], got {self.shading!r}")
        object.__setattr__(self, "shading", float(self.shading))
        if not isinstance(self.texture, str) or self.texture not in TEXTURES:
            raise ValueError(f"MaskSpec.texture must be one of {TEXTURES}, got {self.texture!r}")


@dataclass(frozen=True)
class MaskRender:
    image: np.ndarray  # HxWx3 uint8 RGB, masked
    alpha: np.ndarray  # HxW float32 in [0, 1]
    diagnostics: dict  # check_placement() keys plus roll_deg, interocular_px, n_vertices, roi_pixels


def render_mask(image: np.ndarray, landmarks: np.ndarray, spec: MaskSpec, rng: np.random.Generator) -> MaskRender:
    """Draw ``spec`` on ``image`` (HxWx3 uint8 RGB) anchored to 68 dlib ``landmarks`` (x, y pixels)."""
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"image must be a non-empty HxWx3 uint8 RGB array, got {img.dtype} {img.shape}")
    if not isinstance(spec, MaskSpec):
        raise TypeError(f"spec must be a MaskSpec, got {type(spec).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    geom = mask_geometry(landmarks, spec.kind, spec.coverage)
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
        body, full = _rasterise(poly - off, [c - off for c in loops], [c - off for c in parts], loop_w,
                                 (y1 - y0, x1 - x0))
        if full.any():
            roi = img[y0:y1, x0:x1]
            relief, pattern = _relief(geom, spec, rng, body, x0, y0)
            weight = full
            light = _lighting(roi, weight, s, spec.shading)
            # mask colour, then out = roi + (mask - roi) * alpha, in place on one float buffer
            rgb = (relief * light)[..., None] * np.array(spec.colour, np.float32)
            if pattern is not None:  # printed/woven texture: blend towards a contrasting shade
                colour = np.array(spec.colour, np.float32)
                accent = colour * 0.55 if colour.mean() > 110 else colour + 0.5 * (255.0 - colour)
                rgb += (relief * light * pattern)[..., None] * (accent - colour)
            rgb += (24.0 * (relief - 1.0))[..., None]  # lets pleats and seams show on near-black masks
            hot = rgb > 230.0  # highlights roll off instead of clipping, so white masks keep their relief
            rgb[hot] = 230.0 + 25.0 * np.tanh((rgb[hot] - 230.0) / 25.0)
            np.clip(rgb, 0, 255, out=rgb)
            if grey:  # a black-and-white photo gets a black-and-white mask (same luminance)
                rgb[:] = (rgb @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
            base = roi.astype(np.float32)
            rgb -= base
            rgb *= full[..., None]
            rgb += base
            out[y0:y1, x0:x1] = np.rint(rgb, out=rgb).astype(np.uint8)
            alpha[y0:y1, x0:x1] = full
    diagnostics = check_placement(alpha, landmarks, spec.coverage)
    diagnostics.update(
        roll_deg=geom.frame.roll_deg,
        yaw_deg=geom.yaw_deg,
        outside_fraction=outside_fraction(poly, w, h),
        interocular_px=float(s),
        n_vertices=int(len(poly)),
        roi_pixels=int(max(x1 - x0, 0) * max(y1 - y0, 0)),
    )
    return MaskRender(out, alpha, diagnostics)


def _rasterise(poly, loops, parts, loop_w, shape):
    """Alpha of the polygon alone and with loops/straps and extra parts: binary fill at 2-4x, then
    box-filtered down (antialiased edges)."""
    h, w = shape
    ss = 4 if h * w <= 250_000 else 2
    lim = 8 * max(h, w) + 64  # keeps fixed-point coordinates far from int32 overflow

    def fixed(p):  # pixel centres at integers; 4 fractional bits
        return np.rint(((np.clip(p, -lim, lim) + 0.5) * ss - 0.5) * 16).astype(np.int32)

    canvas = np.zeros((h * ss, w * ss), np.uint8)
    cv2.fillPoly(canvas, [fixed(poly)], 255, cv2.LINE_8, shift=4)
    body = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    if not loops and not parts:
        return body, body
    if parts:
        cv2.fillPoly(canvas, [fixed(c) for c in parts], 255, cv2.LINE_8, shift=4)
    if loops:
        cv2.polylines(canvas, [fixed(c) for c in loops], False, 255, max(1, round(loop_w * ss)), cv2.LINE_8, shift=4)
    full = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return body, full


def _relief(geom: MaskGeometry, spec: MaskSpec, rng, body, x0: int, y0: int):
    """Kind relief times rim darkening and side fall-off, and the texture's blend weight (``None`` for
    plain), evaluated on a grid of at most ``_RELIEF_PX`` per interocular distance (bounds the cost for large
    faces) and resized to the ROI. Draws from ``rng`` never depend on the colour."""
    kind = spec.kind
    h, w = body.shape
    s = geom.frame.scale
    f = min(1.0, _RELIEF_PX / s)
    ws, hs = max(1, round(w * f)), max(1, round(h * f))
    xs = (np.arange(ws, dtype=np.float32) + 0.5) * (w / ws) - 0.5 + x0 - geom.frame.origin[0]
    ys = (np.arange(hs, dtype=np.float32) + 0.5) * (h / hs) - 0.5 + y0 - geom.frame.origin[1]
    (ex0, ex1), (ey0, ey1) = geom.frame.ex, geom.frame.ey
    u = ((xs[None, :] * ex0 + ys[:, None] * ex1) / s).astype(np.float32)
    v = ((xs[None, :] * ey0 + ys[:, None] * ey1) / s).astype(np.float32)
    small = body if (ws, hs) == (w, h) else cv2.resize(body, (ws, hs), interpolation=cv2.INTER_AREA)
    px = (w / ws) / s  # one grid pixel in frame units
    dist = cv2.distanceTransform((small > 0.5).astype(np.uint8), cv2.DIST_L2, 3) * px
    relief = _RELIEF[kind](u, v, geom, rng, px, dist)
    # form shading of a curved mask: darker rim, sides turning away, lower half facing down
    mid, half = 0.5 * (geom.top + geom.bottom), max(0.5 * (geom.bottom - geom.top), 1e-3)
    relief *= (1.0 - 0.22 * np.exp(-dist / 0.05) - 0.16 * np.clip(np.abs(u - geom.nose_u) / 1.2, 0, 1) ** 2
               - 0.10 * np.clip((v - mid) / half, 0, 1) ** 2)
    inside = small > 0.5
    relief /= max(float(relief[inside].mean()) if inside.any() else 1.0, 1e-6)  # mean 1 over the body
    relief = np.where(inside, relief, np.float32(0.95))  # loops, straps and parts: plain band
    for part in geom.parts:  # respirator cartridges: darker discs with a bright rim and a centre cap
        d = np.hypot(*(((u, v) - part.mean(0)[:, None, None]) / (np.ptp(part, 0) / 2)[:, None, None]))
        disc = np.clip((1.0 - d) / max(px * 3, 1e-3), 0.0, 1.0)
        relief = relief * (1 - disc) + disc * (0.55 + 0.35 * _line(d - 0.85, 0.08, px) + 0.2 * (d < 0.35))
    pattern = None if spec.texture == "plain" else _TEXTURE[spec.texture](u, v, rng, px).astype(np.float32)
    if pattern is not None:
        pattern = np.where(small > 0.5, pattern, np.float32(0.0))
    if (ws, hs) != (w, h):
        relief = cv2.resize(relief, (w, h), interpolation=cv2.INTER_LINEAR)
        if pattern is not None:
            pattern = cv2.resize(pattern, (w, h), interpolation=cv2.INTER_LINEAR)
    return relief.astype(np.float32, copy=False), pattern


def _lighting(roi, weight, s, shading):
    """(Blurred luminance / its mean under the mask) ** shading; blur sigma ~0.35 interocular."""
    if shading <= 0.0:
        return np.ones(weight.shape, np.float32)
    lum = roi.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    h, w = lum.shape
    f = min(1.0, 10.0 / s)  # ~10 px per interocular distance is plenty for lighting
    small = cv2.resize(lum, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 0.35 * f * s, borderType=cv2.BORDER_REFLECT)
    blurred = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    ref = float((blurred * weight).sum() / max(weight.sum(), 1e-6))
    return np.clip(blurred / max(ref, 1.0), 0.35, 1.8) ** shading


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
        relief += 0.09 * _line(d + 0.05, 0.035, px) - 0.15 * _line(d, 0.012, px) - 0.05 * _line(d - 0.03, 0.02, px)
    relief += 0.07 * np.exp(-((du / 0.12) ** 2) - ((v - g.top) / 0.3) ** 2)  # tented over the nose
    relief -= 0.06 * _line(dist - 0.045, 0.008, px)  # stitched hem
    return relief


def _n95(u, v, g, rng, px, dist):
    """Domed cup (bright centre), centre ridge, moulded rim and a nose-clip bar along the top edge."""
    hu, hv = rng.normal(0.0, 0.04, 2)
    du = u - g.nose_u
    cy = 0.5 * (g.top + g.bottom) + 0.1
    half_w = np.maximum(np.where(du < 0, g.nose_u - g.outline[:, 0].min(), g.outline[:, 0].max() - g.nose_u), 0.05)
    half_h = np.maximum(np.where(v < cy, cy - g.top, g.bottom - cy), 0.05)
    r2 = ((du - hu) / half_w) ** 2 + ((v - cy - hv) / half_h) ** 2
    relief = 1.0 + 0.16 * (1.0 - np.clip(r2, 0, 1.5))
    ds = _seam_offset(u, v, g)
    relief += 0.07 * _line(ds - 0.03, 0.025, px) - 0.12 * _line(ds, 0.01, px)
    relief += 0.06 * _line(dist - 0.04, 0.015, px)  # moulded rim
    relief += 0.16 * _line(dist - 0.075, 0.02, px) * np.exp(-((du / 0.22) ** 6))  # nose clip
    return relief


def _kn95(u, v, g, rng, px, dist):
    """Two flat panels meeting at a vertical centre fold (one catches more light), with heat-sealed
    seams along the rim and a nose-clip bar."""
    ds = _seam_offset(u, v, g)
    side = np.tanh(ds / max(px, 0.01))
    relief = 1.0 + 0.06 * side - 0.16 * _line(ds, 0.008, px) + 0.08 * _line(ds + 0.02, 0.015, px)
    relief -= 0.12 * _line(dist - 0.05, 0.006, px)  # welded seam line
    relief += 0.05 * (dist < 0.05)
    relief += 0.12 * _line(dist - 0.08, 0.02, px) * np.exp(-(((u - g.nose_u) / 0.2) ** 6))  # nose clip
    relief += 0.012 * rng.standard_normal(u.shape, dtype=np.float32)  # non-woven fabric grain
    return relief


def _cloth(u, v, g, rng, px, dist):
    """Low-frequency wrinkles and fine weave noise (seeded), plus a vertical centre seam."""
    step, u0, v0 = 0.25, -2.0, g.top - 0.4
    grid = rng.standard_normal((int((g.bottom + 0.4 - v0) / step) + 4, int(4.0 / step) + 4)).astype(np.float32)
    wrinkles = cv2.remap(grid, (u - u0) / step, (v - v0) / step, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    weave = rng.standard_normal(u.shape, dtype=np.float32)
    ds = _seam_offset(u, v, g)
    period = 0.035  # woven fabric: crossing warp and weft threads, visible on every colour
    threads = np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period)
    relief = 1.0 + 0.045 * wrinkles + 0.02 * weave + (0.05 if px < period / 2 else 0.0) * threads
    relief += 0.05 * _line(np.abs(ds) - 0.03, 0.02, px) - 0.16 * _line(ds, 0.012, px)
    return relief


_RELIEF = {"surgical": _surgical, "n95": _n95, "cloth": _cloth, "kn95": _kn95, "gas": _n95, "wide": _cloth, "round": _cloth}


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


_TEXTURE = {"weave": _weave, "check": _check, "dots": _dots, "floral": _floral}
