"""From the model's input back to the stored image, and from the image to a landmark template.

Every transform here is affine (``2 x 3``, mapping pixel centres ``(u, v, 1)`` to ``(x, y)``):

* **image <- crop**: the inverse of the model's own alignment (dlib's face chip in
  ``shared_landmarks``; deepface's detection, eye alignment and crop in ``end_to_end``). It is not
  re-derived from either library: a coordinate ramp (red = x, green = y, blue = 255 inside the image)
  goes through the model's public :meth:`acquire` with the same landmarks or detector regions as the
  photo, and the affine is the least-squares fit of the ramp's values on the crop pixels that lie
  wholly inside the image (bilinear and nearest-neighbour resampling both keep a ramp a ramp). The
  fit must explain the ramp to within its quantisation, or :class:`AlignmentNotAffine` is raised.
* **crop <- input**: deepface's ``resize_image`` (scale by ``min(H/h, W/w)``, ``cv2.resize`` to
  ``int(w s) x int(h s)``, black padding split evenly, the extra pixel at the bottom/right).
* **template <- image**: the similarity that puts the two eye centres (landmarks 36-41, 42-47) at
  fixed template positions.
"""

from __future__ import annotations

import numpy as np


class AlignmentNotAffine(RuntimeError):
    """The model's alignment did not map a coordinate ramp affinely (a non-affine warp or a bug)."""


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The affine ``outer(inner(p))``."""
    return (np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]]))[:2]


def invert(affine: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.vstack([affine, [0, 0, 1]]))[:2]


def coordinate_ramp(height: int, width: int) -> np.ndarray:
    """``(height, width, 3)`` uint8: red = x, green = y (each scaled to 0..255), blue = 255."""
    ramp = np.empty((height, width, 3), np.uint8)
    ramp[..., 0] = np.round(np.arange(width) * 255.0 / max(width - 1, 1))[None, :]
    ramp[..., 1] = np.round(np.arange(height) * 255.0 / max(height - 1, 1))[:, None]
    ramp[..., 2] = 255
    return ramp


def fit_ramp(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """The affine crop pixel -> image pixel read off a crop of :func:`coordinate_ramp` (RGB in [0, 1])."""
    inside = crop[..., 2] > 1 - 1e-6
    v, u = np.nonzero(inside)
    if v.size < 16:
        raise AlignmentNotAffine(f"only {v.size} crop pixels come from inside the image")
    xy = np.stack([crop[v, u, 0] * (width - 1), crop[v, u, 1] * (height - 1)], axis=1)
    design = np.stack([u, v, np.ones_like(u)], axis=1).astype(float)
    coef, *_ = np.linalg.lstsq(design, xy, rcond=None)
    rms = float(np.sqrt(np.mean((design @ coef - xy) ** 2)))
    quantum = max(width, height) / 255.0
    if rms > 1.0 + quantum:
        raise AlignmentNotAffine(
            f"alignment is not affine: the ramp fit leaves {rms:.2f} px rms (allowed {1 + quantum:.2f})"
        )
    return coef.T


def crop_to_image(model, shape, landmarks, located) -> np.ndarray:
    """The affine from the crop ``model.acquire`` gives for an image of ``shape`` to that image."""
    h, w = shape[:2]
    face = model.acquire(coordinate_ramp(h, w), landmarks, located)
    if face.status != "ok":
        raise AlignmentNotAffine(f"the model found no face in the coordinate ramp ({face.status})")
    return fit_ramp(np.asarray(face.crop, dtype=float), h, w)


def input_to_crop(crop_shape, input_size) -> np.ndarray:
    """The affine from the network input (``input_size`` = (width, height)) to the crop it was resized
    from by deepface's ``resize_image`` (pixels of the black padding map outside the crop)."""
    ch, cw = crop_shape[:2]
    w, h = input_size
    factor = min(h / ch, w / cw)
    dw, dh = int(cw * factor), int(ch * factor)
    left, top = (w - dw) // 2, (h - dh) // 2
    sx, sy = cw / dw, ch / dh
    return np.array([[sx, 0, (0.5 - left) * sx - 0.5], [0, sy, (0.5 - top) * sy - 0.5]])


def warp(values: np.ndarray, affine: np.ndarray, shape) -> np.ndarray:
    """``values`` (h, w) moved by ``affine`` (source pixel -> destination pixel) onto a ``shape`` canvas
    (bilinear; 0 where nothing maps)."""
    import cv2

    return cv2.warpAffine(
        np.ascontiguousarray(values, dtype=np.float32),
        np.asarray(affine, np.float64),
        (int(shape[1]), int(shape[0])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


TEMPLATE_SIZE = 128
TEMPLATE_EYES = ((0.33, 0.40), (0.67, 0.40))  # left and right eye centre, as fractions of the side


def image_to_template(landmarks: np.ndarray, size: int = TEMPLATE_SIZE) -> np.ndarray:
    """The similarity image -> template putting the eye centres at :data:`TEMPLATE_EYES`."""
    src = np.array([landmarks[36:42].mean(0), landmarks[42:48].mean(0)], float)
    dst = np.array(TEMPLATE_EYES, float) * size
    d_src, d_dst = src[1] - src[0], dst[1] - dst[0]
    zs, zd = complex(*d_src), complex(*d_dst)
    rot = zd / zs  # scale x rotation as one complex number
    a, b = rot.real, rot.imag
    m = np.array([[a, -b], [b, a]])
    t = dst[0] - m @ src[0]
    return np.hstack([m, t[:, None]])


def apply(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, float) @ np.asarray(affine)[:, :2].T + np.asarray(affine)[:, 2]
