"""Figures of the explanation stage (matplotlib, Agg): overlay grid, template means, forest plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from maskaudit.explain import REGIONS, geometry  # noqa: E402
from maskaudit.explain.regions import region_labels  # noqa: E402

REGION_COLOURS = dict(zip(REGIONS, ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#666666"]))


def _variant_order(variants):
    return ["none"] + sorted(v for v in set(variants) if v != "none")


def on_image(e: dict, k: int) -> np.ndarray:
    """Map ``k`` of a loaded explanation file moved onto its stored image."""
    return geometry.warp(e["maps"][k], e["to_image"][k], e["image_shape"][k])


def _face_box(landmarks, shape, margin=0.35):
    lo, hi = landmarks.min(0), landmarks.max(0)
    pad = margin * (hi - lo).max()
    x0, y0 = np.maximum(0, np.floor(lo - pad)).astype(int)
    x1, y1 = np.minimum([shape[1], shape[0]], np.ceil(hi + pad)).astype(int)
    return x0, y0, x1, y1


def overlay_grid(explanations: dict, images: dict, faces: list[str]) -> plt.Figure:
    """Rows: (face, system); columns: variants. ``explanations[(model, variant)]`` = loaded file,
    ``images[(variant, image_id)]`` = the stored RGB image. Each map is scaled to its own maximum."""
    models = sorted({m for m, _ in explanations})
    variants = _variant_order(v for _, v in explanations)
    rows = [(f, m) for f in faces for m in models]
    fig, axes = plt.subplots(
        len(rows), len(variants), figsize=(2.1 * len(variants), 2.6 * len(rows)), squeeze=False
    )
    for r, (face, model) in enumerate(rows):
        for c, variant in enumerate(variants):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            e = explanations[(model, variant)]
            k = e["image_id"].tolist().index(face)
            rgb = images[(variant, face)]
            lm = e["landmarks"][k] if np.isfinite(e["landmarks"][k]).all() else None
            x0, y0, x1, y1 = (
                _face_box(lm, rgb.shape) if lm is not None else (0, 0, rgb.shape[1], rgb.shape[0])
            )
            ax.imshow(rgb[y0:y1, x0:x1])
            if e["status"][k] == "ok":
                sal = np.clip(on_image(e, k), 0, None)[y0:y1, x0:x1]
                sal = sal / sal.max() if sal.max() > 0 else sal
                heat = plt.cm.jet(sal)
                # opacity follows the map: the photo shows where it is weak
                heat[..., 3] = 0.65 * sal
                ax.imshow(heat)
                shares = dict(zip(REGIONS, e["shares"][k]))
                ax.set_xlabel(
                    f"eyes {shares['eyes_brows']:.2f}  mouth {shares['mouth']:.2f}", fontsize=7
                )
            else:
                ax.set_xlabel(str(e["status"][k]), fontsize=7, color="red")
            if r == 0:
                ax.set_title(variant, fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{model}\n{face}\n({e['meta']['method']})", fontsize=7)
    fig.suptitle(
        "Saliency: support for the similarity\nto the unmasked original (each map scaled to its maximum)",
        fontsize=8,
    )
    fig.tight_layout(h_pad=1.2)
    return fig


def template_maps(e: dict, size: int = geometry.TEMPLATE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Every ok map of a file on the eye-aligned template, each scaled to unit mass (positive part),
    and the template landmarks of each; ``(n_ok, size, size)``, ``(n_ok, 68, 2)``."""
    maps, marks = [], []
    for k in np.flatnonzero(e["status"] == "ok"):
        to_template = geometry.image_to_template(e["landmarks"][k], size)
        m = np.clip(
            geometry.warp(
                e["maps"][k], geometry.compose(to_template, e["to_image"][k]), (size, size)
            ),
            0,
            None,
        )
        if m.sum() > 0:
            maps.append(m / m.sum())
            marks.append(geometry.apply(to_template, e["landmarks"][k]))
    return np.array(maps).reshape(-1, size, size), np.array(marks).reshape(-1, 68, 2)


def mean_maps(
    explanations: dict, manifest: pd.DataFrame, model: str, attributes=("race", "gender")
) -> plt.Figure:
    """Rows: all photos, then each group of the first of ``attributes`` with a labelled group among the
    photos; columns: variants. Mean of the unit-mass maps on the eye-aligned template, with the region
    outlines of the mean template landmarks."""
    variants = _variant_order(v for _, v in explanations)
    sampled = {i for e in explanations.values() for i in e["image_id"].tolist()}
    table = manifest.set_index("image_id")
    found = {a: sorted({table[a].get(i) for i in sampled} - {"unknown", None}) for a in attributes}
    attribute = next((a for a in attributes if found[a]), attributes[0])
    labels = table[attribute]
    groups = ["all"] + found[attribute]
    size = geometry.TEMPLATE_SIZE
    fig, axes = plt.subplots(
        len(groups), len(variants), figsize=(2.0 * len(variants), 2.1 * len(groups)), squeeze=False
    )
    all_marks = []
    cells = {}
    for variant in variants:
        e = explanations[(model, variant)]
        maps, marks = template_maps(e, size)
        ids = e["image_id"][e["status"] == "ok"]
        ids = [
            i for i, m in zip(ids, e["maps"][e["status"] == "ok"]) if np.clip(m, 0, None).sum() > 0
        ]
        all_marks.append(marks)
        for g in groups:
            keep = np.array([g == "all" or labels.get(i) == g for i in ids], bool)
            cells[(g, variant)] = (maps[keep].mean(0) if keep.any() else None, int(keep.sum()))
    marks = np.concatenate(all_marks)
    outline = region_labels(marks.mean(0), (size, size)) if len(marks) else None
    for r, g in enumerate(groups):
        for c, variant in enumerate(variants):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            mean, n = cells[(g, variant)]
            if mean is not None:
                ax.imshow(
                    mean / mean.max() if mean.max() > 0 else mean, cmap="magma", vmin=0, vmax=1
                )
            if outline is not None:
                ax.contour(
                    outline, levels=np.arange(len(REGIONS)) + 0.5, colors="white", linewidths=0.5
                )
            ax.set_xlabel(f"n = {n}", fontsize=7)
            if r == 0:
                ax.set_title(variant, fontsize=8)
            if c == 0:
                ax.set_ylabel(g, fontsize=8)
    method = explanations[(model, variants[0])]["meta"]["method"]
    fig.suptitle(
        f"{model} ({method}): mean saliency\non an eye-aligned template, by {attribute}", fontsize=8
    )
    fig.tight_layout()
    return fig


def attention_forest(table: pd.DataFrame, attributes=("race", "gender")) -> plt.Figure:
    """One panel per system: masked minus unmasked share of the map's mass per (variant, region), all
    photos (black) and each group (offset, coloured) of the first of ``attributes`` with a labelled
    group among the photos, with bootstrap intervals."""
    models = sorted(table.model.unique())
    labelled = [a for a in attributes if set(table[table.attribute == a].group) - {"unknown"}]
    attribute = labelled[0] if labelled else attributes[0]
    n_rows = table.groupby(["variant", "region"]).ngroups
    fig, axes = plt.subplots(
        1,
        max(1, len(models)),
        figsize=(4.2 * max(1, len(models)), 0.28 * n_rows + 1.6),
        squeeze=False,
        sharey=True,
    )
    for ax, model in zip(axes[0], models):
        part = table[table.model == model]
        keys = [(v, r) for v in sorted(part.variant.unique()) for r in REGIONS]
        y = {key: -i for i, key in enumerate(keys)}
        sets = [("overall", "overall", "black")] + [
            (attribute, g, plt.cm.tab10(j))
            for j, g in enumerate(
                sorted(set(part[part.attribute == attribute].group) - {"unknown"})
            )
        ]
        for j, (attr, group, colour) in enumerate(sets):
            rows = part[(part.attribute == attr) & (part.group == group)]
            ys = np.array([y[(v, r)] for v, r in zip(rows.variant, rows.region)]) - 0.12 * j
            ax.errorbar(
                rows["shift"],
                ys,
                xerr=[rows["shift"] - rows.shift_low, rows.shift_high - rows["shift"]],
                fmt="o",
                color=colour,
                ms=3,
                lw=0.8,
                capsize=0,
                label=group,
            )
        ax.axvline(0, color="grey", lw=0.6)
        ax.set_yticks(list(y.values()))
        ax.set_yticklabels([f"{v} · {r}" for v, r in y], fontsize=7)
        ax.set_xlabel("shift in share of map mass (masked − unmasked)", fontsize=8)
        ax.set_title(f"{model} ({part.method.iloc[0]})", fontsize=9)
        ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig
