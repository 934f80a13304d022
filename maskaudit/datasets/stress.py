"""A synthetic stress dataset: many seeded augmentations of a small set of real faces.

It exists to measure the workflow at study scale where no large dataset can be downloaded. Every
image is a seeded augmentation (horizontal flip, crop, small rotation, lighting and colour jitter)
of one source image, keeps that image's person and labels, and says so in ``source``: the set is
clearly synthetic, lives under its own dataset id, and is never mixed into a real dataset. Its error
rates say nothing about any system (augmentations of one photo are near-duplicates); its timings do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageEnhance

from maskaudit.imageio import try_read_rgb
from maskaudit.seeding import rng_for

SYNTHETIC_TAG = "synthetic-stress"


def augment(rgb: np.ndarray, rng: np.random.Generator, *, max_side: int) -> tuple[np.ndarray, str]:
    """One seeded augmentation of ``rgb`` and a short description of what was done."""
    img = Image.fromarray(rgb)
    flip = bool(rng.random() < 0.5)
    scale = float(rng.uniform(0.85, 1.0))
    dx, dy = (float(v) for v in rng.uniform(0.0, 1.0, size=2))
    angle = float(rng.uniform(-8.0, 8.0))
    brightness, contrast = (float(v) for v in rng.uniform(0.75, 1.25, size=2))
    gains = rng.uniform(0.9, 1.1, size=3)
    if flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    w, h = img.size
    cw, ch = round(w * scale), round(h * scale)
    left, top = round((w - cw) * dx), round((h - ch) * dy)
    img = img.crop((left, top, left + cw, top + ch))
    img = img.rotate(
        angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=(128, 128, 128)
    )
    if max(img.size) > max_side:
        k = max_side / max(img.size)
        img = img.resize(
            (max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.LANCZOS
        )
    img = ImageEnhance.Contrast(ImageEnhance.Brightness(img).enhance(brightness)).enhance(contrast)
    out = (
        np.clip(np.asarray(img, dtype=np.float32) * gains.astype(np.float32), 0, 255)
        .round()
        .astype(np.uint8)
    )
    desc = (
        f"flip={int(flip)} crop={scale:.3f} rot={angle:+.2f}deg brightness={brightness:.3f} "
        f"contrast={contrast:.3f} gain={','.join(f'{g:.3f}' for g in gains)}"
    )
    return out, desc


def build_stress(
    sources: pd.DataFrame, *, size: int, seed: int, out_dir, max_side: int = 640, quality: int = 92
) -> pd.DataFrame:
    """Write ``size`` augmented images to ``out_dir`` and return their manifest rows.

    ``sources`` is a validated manifest; unreadable source images are skipped with their reason in
    the returned frame's ``attrs["skipped"]``. Sources are used round-robin in manifest order, so each
    person gets an equal share; image ``k`` is seeded from ``(seed, "stress", k)``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    readable, skipped = [], []
    for row in sources.itertuples(index=False):
        rgb, failed = try_read_rgb(row.path)
        if failed:
            skipped.append({"image_id": row.image_id, "reason": failed.reason})
        else:
            readable.append((row, rgb))
    if not readable:
        raise ValueError("no readable source image for the stress dataset")
    rows = []
    for k in range(size):
        src, rgb = readable[k % len(readable)]
        image, desc = augment(rgb, rng_for(seed, "stress", k), max_side=max_side)
        path = out_dir / f"stress{k:06d}.jpg"
        Image.fromarray(image).save(path, format="JPEG", quality=quality)
        rows.append(
            {
                "image_id": path.stem,
                "path": str(path),
                "identity": src.identity,
                "gender": src.gender,
                "race": src.race,
                "age": src.age,
                "source": f"{SYNTHETIC_TAG} of {src.image_id}: {desc}",
                "licence": src.licence,
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["skipped"] = skipped
    return frame
