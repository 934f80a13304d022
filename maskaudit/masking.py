"""The masking stage (workflow/rules/masking.smk): one stored image set and manifest per (dataset, variant).

A *variant* is a point in kind x colour x texture x coverage (``masks.variants`` in the config, or a
``masks.grid`` expanded by :func:`expand_variants`). A variant entry may list several values for an
axis; each image then gets one value per axis from a generator seeded by (seed, dataset, image,
variant): a seeded random draw per image (the resolved variant shows such an axis as ``"a|b|c"``;
the manifest row records the value drawn). ``none`` is the unmasked baseline and is stored exactly
like the masked variants (same face-centred crop, same encoder), so storage is never a confound.

Masks are drawn from the landmarks found once by :mod:`maskaudit.detect`. The texture generator of an
image is seeded from (seed, dataset, image id, kind, coverage, texture), never from the colour, so two
colour variants differ in colour only. Every image yields one manifest row:

- ``ok``: mask drawn and its placement check passed;
- the detection reason (``no_face``, ...) or a read error when there was nothing to mask;
- ``mask_partial_out_of_frame``: part of the mask's required region (nose tip, mouth, chin) lies
  outside the image (``outside_fraction`` says how much of the mask area); image stored for inspection;
- ``mask_render_failed``: nothing drawn (zero alpha) or the placement check failed.

The ``mask_*`` rows count as failures to acquire charged to the mask renderer (:mod:`maskaudit.protocol.fta`).
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from maskaudit.datasets.manifest import relative_paths, resolve_paths
from maskaudit.progress import progress
from maskaudit.seeding import derive_seed, rng_for
from maskaudit.tsv import read_tsv, write_tsv
from maskaudit.usage import stage

# The renderer (OpenCV) and Pillow are imported where they are used: the workflow's main process
# imports this module for the config helpers (expand_variants, resolve_variant) and stays light.

log = logging.getLogger(__name__)

RENDERER_VERSION = "maskaudit-procedural-3"  # 3: fixed-point, machine-independent renders
CHECKS = ("covers_nose_tip", "covers_mouth", "covers_chin", "eyes_clear", "required_in_frame")
AXES = ("kind", "colour", "texture", "coverage")
DEFAULT_STORAGE = {
    "frame": "crop",
    "format": "jpeg",
    "jpeg_quality": 95,
    "png_level": 1,
    "crop_margin": 0.6,
    "max_outside_fraction": 0.05,
}
PALETTE = {
    "blue": "#7FB2E0",
    "white": "#F0F0F0",
    "black": "#202020",
    "grey": "#8C8C8C",
    "red": "#B83A3A",
    "green": "#5E9E7A",
    "skin_light": "#E6BFA0",
    "skin_dark": "#6B4632",
}  # the shipped config's palette
NONE_VARIANT = {
    "id": "none",
    "kind": "none",
    "colour": "none",
    "hex": "",
    "texture": "none",
    "coverage": "none",
    "shading": 0.0,
}


HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")  # the schema's pattern for masks.colours


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    if not HEX_COLOUR.match(str(value)):
        raise ValueError(
            f"colour {value!r} is not a hex value such as '#1F5FBF' (# and six hex digits)"
        )
    return tuple(int(value[k : k + 2], 16) for k in (1, 3, 5))


def resolve_colour(colour: str, palette: dict) -> str:
    """Hex value of a palette name, or the colour itself when it is ``#RRGGBB`` (exactly ``#`` and six
    hex digits, :data:`HEX_COLOUR`). The one check of a colour, for the CLI and the config alike."""
    if isinstance(colour, str) and colour.startswith("#"):
        hex_to_rgb(colour)  # raises on anything but '#' and six hex digits
        return colour.upper()
    if colour not in palette:
        raise ValueError(
            f"mask colour {colour!r} is neither a name under masks.colours ({', '.join(palette)}) "
            "nor a hex value such as '#1F5FBF'"
        )
    return palette[colour].upper()


def expand_variants(masks: dict) -> dict[str, dict]:
    """``masks.variants`` plus every point of ``masks.grid`` (kinds x colours x textures x coverages),
    named ``kind-colour[-texture][-coverage]`` (plain texture and high coverage are left out of the name)."""
    out = {k: dict(v) for k, v in (masks.get("variants") or {}).items()}
    grid = masks.get("grid")
    if grid:
        for kind, colour, texture, coverage in itertools.product(
            grid["kinds"],
            grid["colours"],
            grid.get("textures", ["plain"]),
            grid.get("coverages", ["high"]),
        ):
            name = "-".join(
                [kind, colour.lstrip("#").lower()]
                + ([texture] if texture != "plain" else [])
                + ([coverage] if coverage != "high" else [])
            )
            out.setdefault(
                name, {"kind": kind, "colour": colour, "texture": texture, "coverage": coverage}
            )
    return out


def resolve_variant(masks: dict, name: str) -> dict:
    """The variant's entry with its id, defaults and the hex value of every colour it may draw."""
    if name == "none":
        return dict(NONE_VARIANT)
    entry = expand_variants(masks)[name]
    out = {"id": name, "texture": "plain", "coverage": "high", "shading": 0.6, **entry}
    palette = masks.get("colours", {})
    colours = out["colour"] if isinstance(out["colour"], list) else [out["colour"]]
    out["hex"] = "|".join(resolve_colour(c, palette) for c in colours)
    # listed values become one "a|b|c" label, so every consumer sees plain strings
    for axis in AXES:
        if isinstance(out[axis], list):
            out[axis] = "|".join(out[axis])
    return out


def draw_point(variant: dict, seed: int, dataset: str, image_id: str) -> dict:
    """The (kind, colour, hex, texture, coverage, shading) this image gets: fixed values as given, one
    value per listed axis drawn with a generator seeded by (seed, dataset, image, variant id)."""
    point = {k: variant[k] for k in (*AXES, "hex", "shading")}
    if any("|" in str(variant[a]) for a in AXES):
        rng = rng_for(seed, dataset, image_id, variant["id"], "draw")
        for axis in AXES:
            values = str(variant[axis]).split("|")
            if len(values) > 1:
                i = int(rng.integers(len(values)))
                point[axis] = values[i]
                if axis == "colour":
                    point["hex"] = variant["hex"].split("|")[i]
    return point


def spec_from_point(point: dict):
    """The :class:`maskaudit.masks.MaskSpec` of a drawn point."""
    from maskaudit.masks import MaskSpec

    return MaskSpec(
        kind=point["kind"],
        colour=hex_to_rgb(point["hex"]),
        coverage=point["coverage"],
        shading=float(point["shading"]),
        texture=point["texture"],
    )


def spec_from_variant(variant: dict):
    """``variant``: a variant with single values (e.g. from :func:`resolve_variant`)."""
    return spec_from_point({"texture": "plain", "coverage": "high", "shading": 0.6, **variant})


def texture_seed(seed: int, dataset: str, image_id: str, point: dict) -> int:
    """Seed of the image's texture generator: (seed, dataset, image, kind, coverage, texture), no colour."""
    return derive_seed(seed, dataset, image_id, point["kind"], point["coverage"], point["texture"])


def crop_box(
    landmarks: np.ndarray, width: int, height: int, margin: float
) -> tuple[int, int, int, int]:
    """Face-centred crop ``(x0, y0, x1, y1)``: the landmarks' bounding square widened by ``margin`` times
    its side on every side (0.6 -> 2.2x the landmark extent, room for any detector's face box and
    context), clipped to the image. Every variant of an image uses the same box."""
    pts = np.asarray(landmarks, float)
    lo, hi = pts.min(0), pts.max(0)
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2 * (1 + 2 * margin)
    x0, y0 = (min(max(0, math.floor(c - half)), n - 1) for c, n in zip(centre, (width, height)))
    x1, y1 = min(width, math.ceil(centre[0] + half)), min(height, math.ceil(centre[1] + half))
    return (
        x0,
        y0,
        max(x1, x0 + 1),
        max(y1, y0 + 1),
    )  # at least one pixel, even for a face off the image


def image_suffix(storage: dict) -> str:
    return ".jpg" if storage["format"] == "jpeg" else ".png"


def encode_image(path: str | Path, rgb: np.ndarray, storage: dict) -> None:
    """Write ``rgb`` as configured: JPEG (quality ``jpeg_quality``, no chroma subsampling) or PNG
    (``png_level``); no metadata, so the bytes depend on the pixels and settings only."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(np.ascontiguousarray(rgb))
    if storage["format"] == "jpeg":
        img.save(path, format="JPEG", quality=int(storage["jpeg_quality"]), subsampling=0)
    else:
        img.save(path, format="PNG", compress_level=int(storage["png_level"]))


def mask_image(
    rgb: np.ndarray, landmarks: np.ndarray, point: dict, rng: np.random.Generator, storage: dict
) -> tuple[np.ndarray, dict]:
    """Mask one face (or, for kind ``none``, only crop it) and return the image to store and its record:
    status/detail, yaw, roll, eye distance, occluded fraction of the face region, covered landmark
    groups, fraction of the mask region outside the image, the placement checks and the crop box."""
    from maskaudit.masks import estimate_yaw, render_mask
    from maskaudit.masks.geometry import face_frame, mask_polygon, outside_fraction

    storage = {**DEFAULT_STORAGE, **storage}
    h, w = rgb.shape[:2]
    lm = np.asarray(landmarks, np.float64)
    frame = face_frame(lm)
    box = crop_box(lm, w, h, storage["crop_margin"]) if storage["frame"] == "crop" else (0, 0, w, h)
    x0, y0, x1, y1 = box
    crop = rgb[y0:y1, x0:x1]
    rec = {
        "status": "ok",
        "detail": "",
        "yaw_deg": round(estimate_yaw(lm), 3),
        "roll_deg": round(frame.roll_deg, 3),
        "eye_distance_px": round(frame.scale, 3),
        "crop_x0": x0,
        "crop_y0": y0,
        "crop_w": x1 - x0,
        "crop_h": y1 - y0,
        "width": w,
        "height": h,
    }
    if point["kind"] == "none":
        rec.update(occluded_fraction=0.0, covered_groups="", outside_fraction=0.0)
        return crop, rec
    render = render_mask(np.ascontiguousarray(crop), lm - [x0, y0], spec_from_point(point), rng)
    d = render.diagnostics
    outside = outside_fraction(mask_polygon(lm, point["kind"], point["coverage"]), w, h)
    rec.update(
        occluded_fraction=round(d["coverage_fraction"], 6),
        covered_groups=d["covered_groups"],
        outside_fraction=round(outside, 6),
        placement_ok=d["placement_ok"],
        **{k: d[k] for k in CHECKS},
    )
    if d["alpha_max"] <= 0:
        rec.update(
            status="mask_render_failed",
            detail="nothing drawn: the mask has zero alpha in the image",
        )
    elif not d["required_in_frame"] or outside > storage["max_outside_fraction"]:
        rec.update(
            status="mask_partial_out_of_frame",
            detail=f"{outside:.0%} of the mask region lies outside the image"
            + (
                ""
                if d["required_in_frame"]
                else "; nose tip, mouth or chin landmarks are outside it"
            ),
        )
    elif not d["placement_ok"]:
        checks = [k for k in CHECKS if point["coverage"] != "low" or k != "covers_nose_tip"]
        failed = ", ".join(k for k in checks if not d[k]) or "nose tip covered despite low coverage"
        rec.update(status="mask_render_failed", detail=f"placement check failed: {failed}")
    return render.image, rec


def mask_dataset(
    manifest: pd.DataFrame,
    landmarks: dict,
    statuses: dict,
    variant: dict,
    *,
    dataset: str,
    seed: int,
    out_dir: str | Path,
    storage: dict | None = None,
) -> pd.DataFrame:
    """Store ``variant`` (a :func:`resolve_variant` entry, ``none`` included) for every image; return the
    variant manifest, one row per image in manifest order.

    ``landmarks`` and ``statuses`` map image id to detection results (:func:`maskaudit.detect.load_landmarks`).
    """
    from maskaudit.imageio import try_read_rgb

    storage = {**DEFAULT_STORAGE, **(storage or {})}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for row in progress(list(manifest.itertuples()), desc=f"mask {variant['id']}", unit="img"):
        point = draw_point(variant, seed, dataset, row.image_id)
        rec = {
            "image_id": row.image_id,
            "path": "",
            "status": "ok",
            "detail": "",
            "variant": variant["id"],
            **{k: point[k] for k in (*AXES, "hex")},
            "seed": texture_seed(seed, dataset, row.image_id, point),
        }
        lm = landmarks.get(row.image_id)
        if lm is None:
            rec.update(
                status=statuses[row.image_id],
                detail="detection failed (see the dataset's acquisition.tsv)",
            )
            rows.append(rec)
            continue
        rgb, failed = try_read_rgb(row.path)
        if failed:
            rec.update(status=failed.reason, detail=failed.detail)
            rows.append(rec)
            continue
        with stage("mask"):
            image, info = mask_image(rgb, lm, point, np.random.default_rng(rec["seed"]), storage)
        target = out_dir / f"{row.image_id}{image_suffix(storage)}"
        with stage("write"):
            encode_image(target, image, storage)
        rec.update(info, path=str(target))
        if rec["status"] != "ok":
            log.warning("%s: %s (%s)", row.image_id, rec["status"], rec["detail"])
        rows.append(rec)
    out = pd.DataFrame(rows)
    out["renderer"] = RENDERER_VERSION
    return out


def stored_landmarks(table: pd.DataFrame, landmarks: dict) -> dict:
    """Landmarks in the coordinates of the stored images (shifted by each row's crop origin)."""
    if "crop_x0" not in table:
        return dict(landmarks)
    shift = {
        r.image_id: (r.crop_x0, r.crop_y0)
        for r in table.itertuples()
        if r.path and not pd.isna(r.crop_x0)
    }
    return {
        i: (lm - np.asarray(shift[i], np.float32) if lm is not None and i in shift else lm)
        for i, lm in landmarks.items()
    }


def write_variant_manifest(df: pd.DataFrame, path: str | Path) -> None:
    """Write with paths relative to the manifest's folder (like the dataset manifest)."""
    write_tsv(df.assign(path=relative_paths(df.path, Path(path).parent)), path)


def read_variant_manifest(path: str | Path) -> pd.DataFrame:
    df = read_tsv(path, dtype={"path": str, "detail": str, "covered_groups": str})
    return df.assign(path=resolve_paths(df.path, Path(path).parent))
