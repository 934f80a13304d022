"""Figures of the human baseline, one per comparison; each takes its table and returns a Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from maskaudit.plots import save  # noqa: F401  (the scripts save through here)


def _errorbars(ax, x, frame, value, low, high, **kw):
    y = frame[value].to_numpy(float)
    lo = np.clip(y - frame[low].to_numpy(float), 0, None)
    hi = np.clip(frame[high].to_numpy(float) - y, 0, None)
    ax.errorbar(x, y, yerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="o", capsize=3, **kw)


def accuracy(table: pd.DataFrame) -> plt.Figure:
    """Overall accuracy per variant: humans in each time condition, every system as a marker."""
    t = table[table.attribute == "overall"]
    variants = sorted(set(t.variant) - {"all"}) + ["all"]
    raters = [
        (r, c)
        for r, c in t[["rater", "condition"]].drop_duplicates().itertuples(index=False)
        if not (r == "humans" and c == "all") or t[t.rater == "humans"].condition.nunique() == 1
    ]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(variants) + 2), 4))
    width = 0.8 / max(len(raters), 1)
    for j, (rater, cond) in enumerate(raters):
        f = t[(t.rater == rater) & (t.condition == cond)].set_index("variant").reindex(variants)
        x = np.arange(len(variants)) + (j - (len(raters) - 1) / 2) * width
        label = f"humans, time limit {cond}" if rater == "humans" else rater
        _errorbars(ax, x, f, "accuracy", "boot_low", "boot_high", label=label)
    ax.set_xticks(np.arange(len(variants)), variants)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("accuracy (95% identity-bootstrap interval)")
    ax.set_title("1:N masked re-identification: humans and systems on the same trials")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def versus(table: pd.DataFrame) -> plt.Figure:
    """Human minus system accuracy per variant (all time conditions pooled), paired intervals."""
    t = table[table.condition == "all"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.35 * len(t) + 1.5)))
    y = np.arange(len(t))
    ax.errorbar(
        t.difference,
        y,
        xerr=[
            np.nan_to_num(t.difference - t.difference_low),
            np.nan_to_num(t.difference_high - t.difference),
        ],
        fmt="o",
        capsize=3,
    )
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, [f"{r.system} / {r.variant}  (p={r.p_signflip:.3g})" for r in t.itertuples()])
    ax.set_xlabel("human accuracy - system accuracy (same trials)")
    ax.set_title("Humans against each system")
    fig.tight_layout()
    return fig


def agreement(table: pd.DataFrame) -> plt.Figure:
    """Per system (all variants): trials both get right, both miss, only humans, only the system."""
    t = table[table.variant == "all"].reset_index(drop=True)
    parts = ["both_correct", "human_only", "machine_only", "both_miss"]
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.5 * len(t) + 1.5)))
    left = np.zeros(len(t))
    for p in parts:
        ax.barh(np.arange(len(t)), t[p], left=left, label=p.replace("_", " "))
        left += t[p].to_numpy(float)
    ax.set_yticks(np.arange(len(t)), [f"{r.system} (kappa {r.kappa:.2f})" for r in t.itertuples()])
    ax.set_xlabel("trials (human hit = majority of responses correct)")
    ax.set_title("Agreement of humans and systems")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def gaps(table: pd.DataFrame) -> plt.Figure:
    """Best minus worst group accuracy per attribute: humans next to each system."""
    attrs = list(dict.fromkeys(table.attribute))
    raters = list(dict.fromkeys(table.rater))
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(raters), 1)
    for j, rater in enumerate(raters):
        f = table[table.rater == rater].set_index("attribute").reindex(attrs)
        x = np.arange(len(attrs)) + (j - (len(raters) - 1) / 2) * width
        _errorbars(ax, x, f, "gap", "gap_low", "gap_high", label=rater)
    ax.set_xticks(np.arange(len(attrs)), attrs)
    ax.set_ylabel("best - worst group accuracy")
    ax.set_title("Do humans show the systems' group differences? (missing: < 2 known groups)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
