"""Masked variants of a dataset: one rendered image set and manifest per (dataset, variant).

Masks are drawn on the original image from the landmarks found once by :mod:`maskaudit.detect`.
Each image gets its own generator seeded from (seed, dataset, image id, variant). Images whose
detection failed are listed with that reason; a mask whose placement check fails (mouth, nose tip or
chin left uncovered, or an eye covered) is kept for inspection but marked ``mask_render_failed``, and
both count as failures to acquire downstream.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from maskaudit.datasets.manifest import relative_paths, resolve_paths
from maskaudit.imageio import ImageReadError, read_rgb, write_png
from maskaudit.masks import MaskSpec, render_mask
from maskaudit.progress import progress
from maskaudit.seeding import derive_seed, rng_for
from maskaudit.tsv import read_tsv, write_tsv

log = logging.getLogger(__name__)

RENDERER_VERSION = "maskaudit-procedural-1"
CHECKS = ("covers_nose_tip", "covers_mouth", "covers_chin", "eyes_clear")


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return tuple(int(value[k:k + 2], 16) for k in (0, 2, 4))


def spec_from_variant(variant: dict) -> MaskSpec:
    """``variant``: a validated ``masks.variants`` entry plus ``hex``, its colour's sRGB value."""
    return MaskSpec(kind=variant["kind"], colour=hex_to_rgb(variant["hex"]),
                    coverage=variant.get("coverage", "high"), shading=float(variant.get("shading", 0.6)))


def mask_dataset(manifest: pd.DataFrame, landmarks: dict, statuses: dict, spec: MaskSpec, *, dataset: str,
                 variant: str, seed: int, out_dir: str | Path) -> pd.DataFrame:
    """Render ``spec`` on every acquired image; return the variant manifest (one row per image).

    ``landmarks`` and ``statuses`` map image id to detection results (:func:`maskaudit.detect.load_landmarks`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for row in progress(list(manifest.itertuples()), desc=f"mask {variant}", unit="img"):
        rec = {"image_id": row.image_id, "path": "", "status": "ok", "detail": "",
               "seed": derive_seed(seed, dataset, row.image_id, variant)}
        lm = landmarks.get(row.image_id)
        if lm is None:
            rec.update(status=statuses[row.image_id], detail="detection failed (see the dataset's acquisition.tsv)")
            rows.append(rec)
            continue
        try:
            rgb = read_rgb(row.path)
        except ImageReadError as exc:
            rec.update(status=exc.reason, detail=exc.detail)
            rows.append(rec)
            continue
        render = render_mask(rgb, lm, spec, rng_for(seed, dataset, row.image_id, variant))
        target = out_dir / f"{row.image_id}.png"
        write_png(target, render.image)
        diag = {k: render.diagnostics[k] for k in ("coverage_fraction", "placement_ok", *CHECKS)}
        if not diag["placement_ok"]:
            failed = ", ".join(k for k in CHECKS if not diag[k]) or "nose tip covered despite low coverage"
            rec.update(status="mask_render_failed", detail=f"placement check failed: {failed}")
            log.warning("%s: %s", row.image_id, rec["detail"])
        rec.update(path=str(target), **diag)
        rows.append(rec)
    out = pd.DataFrame(rows)
    out["renderer"] = RENDERER_VERSION
    return out


def write_variant_manifest(df: pd.DataFrame, path: str | Path) -> None:
    """Write with paths relative to the manifest's folder (like the dataset manifest)."""
    write_tsv(df.assign(path=relative_paths(df.path, Path(path).parent)), path)


def read_variant_manifest(path: str | Path) -> pd.DataFrame:
    df = read_tsv(path, dtype={"path": str, "detail": str})
    return df.assign(path=resolve_paths(df.path, Path(path).parent))
