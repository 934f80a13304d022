"""Image bytes as sent to a vendor: upright RGB, downscaled to the vendor's limits, re-encoded.

Every image goes through :func:`prepare`: read with :func:`maskaudit.imageio.read_rgb` (EXIF
orientation applied, metadata dropped), downscaled with Lanczos so the longest side is at most
``max_side``, encoded as JPEG (quality 95, falling to 70, then further 0.8x downscales) until it fits
``max_bytes``. The recipe and what happened to each image are recorded (``record``), and the SHA-256
of the exact bytes sent is the image's part of the cache key. Encoding is deterministic for a given
Pillow build.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from maskaudit.fetch import sha256_bytes
from maskaudit.imageio import read_rgb
from maskaudit.vendors.errors import ImageRejected

RECIPE = "rgb-exif-upright;lanczos-to-max_side;jpeg-q95..70;0.8x-steps-to-max_bytes"
QUALITIES = (95, 90, 85, 80, 75, 70)


@dataclass(frozen=True)
class Limits:
    max_side: int  # longest side sent (vendor maximum or a recommended resolution)
    max_bytes: int  # encoded size
    min_side: int  # shortest side the vendor accepts


@dataclass(frozen=True)
class Prepared:
    data: bytes
    sha256: str
    record: dict  # original and sent size, bytes, quality, downscaled flag


def _encode(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(
        buf, format="JPEG", quality=quality, subsampling=0 if quality >= 90 else 2, optimize=False
    )
    return buf.getvalue()


def prepare_array(rgb: np.ndarray, limits: Limits) -> Prepared:
    h, w = rgb.shape[:2]
    if min(h, w) < limits.min_side:
        raise ImageRejected(
            f"image is {w}x{h} px, below the vendor's minimum side of {limits.min_side} px",
            reason="vendor_image_too_small",
        )
    img = Image.fromarray(rgb)
    scale = min(1.0, limits.max_side / max(w, h))
    while True:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        sized = img if size == (w, h) else img.resize(size, Image.Resampling.LANCZOS)
        for quality in QUALITIES:
            data = _encode(sized, quality)
            if len(data) <= limits.max_bytes:
                record = {
                    "original": [w, h],
                    "sent": list(size),
                    "bytes": len(data),
                    "quality": quality,
                    "downscaled": size != (w, h),
                }
                return Prepared(data, sha256_bytes(data), record)
        scale *= 0.8
        if min(size) * 0.8 < limits.min_side:
            raise ImageRejected(
                f"cannot fit {w}x{h} px into {limits.max_bytes} bytes above {limits.min_side} px",
                reason="vendor_image_too_large",
            )


def prepare(path: str, limits: Limits) -> Prepared:
    return prepare_array(read_rgb(path), limits)
