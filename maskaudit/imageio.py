"""Reading face images into one canonical form, with a reason for every image that cannot be read.

Every stage reads images through :func:`read_rgb`, so an image is interpreted identically everywhere:
EXIF orientation applied, any mode (grayscale, palette, RGBA, CMYK, 16-bit) converted to 8-bit RGB,
and transparent pixels composited on white.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# Decompression-bomb guard: refuse images with more pixels than a 12k x 12k photo.
MAX_PIXELS = 144_000_000


class ImageReadError(Exception):
    """The file is not a decodable image. ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def read_rgb(path: str | Path) -> np.ndarray:
    """Return the image at ``path`` as an ``H x W x 3`` ``uint8`` RGB array, upright per its EXIF tag.

    Raises :class:`ImageReadError` with reason ``missing_file``, ``unreadable`` (not an image, or
    truncated/corrupt data) or ``too_large``.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError("missing_file", f"{path} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageReadError("too_large", f"{path} has {img.width}x{img.height} pixels")
                img.load()  # forces a full decode: truncated files fail here, not later
                img = ImageOps.exif_transpose(img)
                return _to_rgb(img)
    except ImageReadError:
        raise
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:  # Pillow's guard, before ours
        raise ImageReadError("too_large", f"{path}: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError("unreadable", f"{path}: {exc}") from exc


def try_read_rgb(path: str | Path) -> tuple[np.ndarray | None, ImageReadError | None]:
    """:func:`read_rgb` for the loops that record an image that cannot be read and go on: ``(rgb, None)``,
    or ``(None, error)`` whose ``reason`` is the image's failure-to-acquire status and ``detail`` says why.
    Decoding is timed as the ``decode`` stage of the job's usage line (:mod:`maskaudit.usage`)."""
    from maskaudit.usage import stage

    try:
        with stage("decode"):
            return read_rgb(path), None
    except ImageReadError as exc:
        return None, exc


def _to_rgb(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit samples scale by 255/65535 whatever their range: a dark 16-bit image stays dark (its
        # brightest value says nothing about its bit depth). Mode "I" (32-bit) beyond 16 bits scales
        # by its maximum.
        arr = np.asarray(img, dtype=np.float64)
        hi = arr.max() if arr.size else 0.0
        arr = arr * (255.0 / (hi if hi > 65535 else 65535.0))
        img = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write an RGB ``uint8`` array losslessly (PNG, fixed compression level, no metadata)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, format="PNG", compress_level=6)
