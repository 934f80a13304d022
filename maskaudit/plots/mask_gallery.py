"""The mask gallery figure: every catalogue type on one face, a yaw strip across the dataset's faces,
and the configured variants as stored (crops, with their status when a mask failed).

A module of its own (not in :mod:`maskaudit.plots` itself) because it draws masks: only the gallery
figure's rule reaches :mod:`maskaudit.masks`, so editing the mask code reruns this figure and no other."""

from __future__ import annotations

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from maskaudit.masks.geometry import estimate_yaw  # noqa: E402
from maskaudit.masks.render import MaskSpec, render_mask  # noqa: E402

_RGB = {
    "blue": (0x7F, 0xB2, 0xE0),
    "white": (0xF0, 0xF0, 0xF0),
    "black": (0x20, 0x20, 0x20),
    "grey": (0x8C, 0x8C, 0x8C),
    "red": (0xB8, 0x3A, 0x3A),
    "navy": (0x1F, 0x3F, 0x7F),
    "cream": (0xF0, 0xE6, 0xD8),
    "skin_dark": (0x6B, 0x46, 0x32),
}

CATALOGUE = [
    ("surgical\nblue", MaskSpec("surgical", _RGB["blue"])),
    ("surgical\nwhite", MaskSpec("surgical", _RGB["white"])),
    ("N95\nwhite", MaskSpec("n95", _RGB["white"])),
    ("KN95\nblack", MaskSpec("kn95", _RGB["black"])),
    ("cloth weave\nred", MaskSpec("cloth", _RGB["red"], texture="weave")),
    ("cloth check\ngrey", MaskSpec("cloth", _RGB["grey"], texture="check")),
    ("cloth dots\nnavy", MaskSpec("cloth", _RGB["navy"], texture="dots")),
    ("cloth floral\ncream", MaskSpec("cloth", _RGB["cream"], texture="floral")),
    ("respirator\n(gas) grey", MaskSpec("gas", _RGB["grey"])),
    ("NIST wide\nhigh", MaskSpec("wide", _RGB["black"], "high")),
    ("NIST wide\nmedium", MaskSpec("wide", _RGB["black"], "medium")),
    ("NIST wide\nlow", MaskSpec("wide", _RGB["black"], "low")),
    ("NIST round\nhigh", MaskSpec("round", _RGB["blue"], "high")),
    ("NIST round\nlow", MaskSpec("round", _RGB["blue"], "low")),
    ("surgical\nskin_dark", MaskSpec("surgical", _RGB["skin_dark"])),
]
YAW_KINDS = [
    MaskSpec("surgical", _RGB["blue"]),
    MaskSpec("n95", _RGB["white"]),
    MaskSpec("kn95", _RGB["black"]),
    MaskSpec("cloth", _RGB["red"], texture="check"),
    MaskSpec("gas", _RGB["grey"]),
]


def face_tile(
    rgb: np.ndarray, landmarks: np.ndarray, size: int = 160, margin: float = 0.35
) -> np.ndarray:
    """A square crop around the 68 landmarks (plus ``margin`` of their extent, white outside the
    image), resized to ``size``."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    centre, half = (lo + hi) / 2, (hi - lo).max() * (0.5 + margin)
    x1, y1 = np.floor(centre - half).astype(int)
    x2, y2 = np.ceil(centre + half).astype(int)
    pad = max(0, -x1, -y1, x2 - rgb.shape[1], y2 - rgb.shape[0])
    padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), constant_values=255) if pad else rgb
    return cv2.resize(
        padded[y1 + pad : y2 + pad, x1 + pad : x2 + pad], (size, size), interpolation=cv2.INTER_AREA
    )


def catalogue_tiles(rgb: np.ndarray, landmarks: np.ndarray, seed: int = 0) -> tuple[list, list]:
    tiles = [
        face_tile(render_mask(rgb, landmarks, spec, np.random.default_rng(seed)).image, landmarks)
        for _, spec in CATALOGUE
    ]
    return tiles, [label for label, _ in CATALOGUE]


def yaw_strip(faces: list[tuple[str, np.ndarray, np.ndarray]], seed: int = 0) -> tuple[list, list]:
    """Every face (id, rgb, landmarks) masked with a kind in turn, ordered by estimated yaw."""
    faces = sorted(faces, key=lambda f: estimate_yaw(f[2]))
    tiles, labels = [], []
    for k, (image_id, rgb, lm) in enumerate(faces):
        spec = YAW_KINDS[k % len(YAW_KINDS)]
        tiles.append(face_tile(render_mask(rgb, lm, spec, np.random.default_rng(seed)).image, lm))
        labels.append(f"yaw {estimate_yaw(lm):+.0f}°\n{image_id}")
    return tiles, labels


def gallery_figure(sections: list[tuple[str, list, list]], per_row: int = 8) -> plt.Figure:
    """Sections of (title, tiles, labels); a tile may be a string (shown as a red note instead). Each
    section starts with a title row; tiles wrap at ``per_row``."""
    rows = []  # ("title", text) or ("tiles", tiles, labels)
    for title, tiles, labels in sections:
        rows.append(("title", title))
        rows += [
            ("tiles", tiles[k : k + per_row], labels[k : k + per_row])
            for k in range(0, len(tiles), per_row)
        ]
    heights = [0.28 if r[0] == "title" else 2.0 for r in rows]
    fig, axes = plt.subplots(
        len(rows),
        per_row,
        figsize=(1.6 * per_row, sum(heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for r, row in enumerate(rows):
        for c in range(per_row):
            axes[r, c].set_axis_off()
        if row[0] == "title":
            axes[r, 0].text(
                0.0,
                0.2,
                row[1],
                transform=axes[r, 0].transAxes,
                fontsize=10,
                weight="bold",
                ha="left",
                va="bottom",
            )
            continue
        for c, (tile, label) in enumerate(zip(row[1], row[2])):
            ax = axes[r, c]
            if isinstance(tile, str):
                ax.text(
                    0.5,
                    0.5,
                    tile.replace("_", " "),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="red",
                    transform=ax.transAxes,
                )
            else:
                ax.imshow(tile)
            ax.set_title(label, fontsize=6, pad=2)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.995, bottom=0.005, wspace=0.05, hspace=0.35)
    return fig
