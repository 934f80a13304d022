"""Figures for the report. Each function takes plain tables and returns a matplotlib Figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# Deterministic PNGs: no timestamps or software tags in the file.
PNG_METADATA = {"Software": None}


def save(fig, path) -> None:
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


def _variant_order(variants) -> list[str]:
    rest = sorted(v for v in set(variants) if v != "none")
    return (["none"] if "none" in set(variants) else []) + rest


def accuracy_by_variant(metrics: pd.DataFrame, value: str = "accuracy",
                        attributes=("gender", "race", "gender_race")) -> plt.Figure:
    """Grouped bars: one panel per attribute, x = mask variant, one bar per group (n in legend)."""
    variants = _variant_order(metrics.variant)
    fig, axes = plt.subplots(len(attributes), 1, figsize=(max(8, 0.7 * len(variants) + 3), 3.2 * len(attributes)),
                             squeeze=False)
    overall = metrics[metrics.attribute == "overall"].set_index("variant")[value].reindex(variants)
    for ax, attribute in zip(axes[:, 0], attributes):
        sub = metrics[metrics.attribute == attribute]
        groups = sorted(sub.group.unique())
        width = 0.8 / max(len(groups), 1)
        x = np.arange(len(variants))
        for k, group in enumerate(groups):
            g = sub[sub.group == group].set_index("variant").reindex(variants)
            n = int(g.n_images.dropna().iloc[0]) if g.n_images.notna().any() else 0
            ax.bar(x - 0.4 + width * (k + 0.5), g[value].to_numpy(dtype=float), width, label=f"{group} (n={n})")
        ax.plot(x, overall.to_numpy(dtype=float), "k_", markersize=18, mew=2, label="all")
        ax.set_xticks(x, variants, rotation=40, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(value.replace("_", " "))
        ax.set_title(f"{value.replace('_', ' ')} by mask variant and {attribute.replace('_', ' x ')}", fontsize=10)
        ax.legend(fontsize=7, ncol=min(4, len(groups) + 1), loc="lower left")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def score_distributions(scores: pd.DataFrame, threshold: float) -> plt.Figure:
    """Genuine vs impostor similarity per variant (strip plot), with the operating threshold."""
    variants = _variant_order(scores.probe_mask)
    fig, ax = plt.subplots(figsize=(max(8, 0.7 * len(variants) + 3), 4.5))
    styles = {"same_image": ("tab:green", "genuine, same photo"), "mated": ("tab:blue", "genuine, other photo"),
              "non_mated": ("tab:red", "impostor")}
    jitter = np.random.default_rng(0)  # fixed: placement only, never data
    for k, variant in enumerate(variants):
        sub = scores[scores.probe_mask == variant]
        for j, (comparison, (colour, label)) in enumerate(styles.items()):
            s = sub[sub.comparison == comparison].score.dropna().to_numpy()
            xs = k + (j - 1) * 0.22 + jitter.uniform(-0.07, 0.07, s.size)
            ax.scatter(xs, s, s=9, color=colour, alpha=0.7, label=label if k == 0 else None)
    ax.axhline(threshold, color="k", ls="--", lw=1, label=f"operating threshold ({threshold:g})")
    ax.set_xticks(range(len(variants)), variants, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("similarity (= -distance)")
    ax.set_title("1:1 scores by mask variant (accept iff score >= threshold)", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def face_chips(chips: list[np.ndarray | None], labels: list[str], notes: list[str], per_row: int = 8) -> plt.Figure:
    """Aligned face chips in a grid; an image without a chip shows its failure reason instead."""
    n_rows = max(1, -(-len(chips) // per_row))
    fig, axes = plt.subplots(n_rows, per_row, figsize=(1.5 * per_row, 1.75 * n_rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, chip, label, note in zip(axes.ravel(), chips, labels, notes):
        if chip is None:
            ax.text(0.5, 0.5, note.replace("_", " "), ha="center", va="center", fontsize=8, color="red",
                    transform=ax.transAxes)
        else:
            ax.imshow(chip)
        ax.set_title(label, fontsize=7)
    fig.tight_layout(pad=0.3)
    return fig
