"""Figures for the report. Each function takes plain tables and returns a matplotlib Figure.

The mask gallery, which renders masks rather than tables, is :mod:`maskaudit.plots.mask_gallery`."""

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


def rates_by_variant(
    rates: pd.DataFrame,
    measures=("reid_rate", "fnmr", "fmr", "rank1"),
    attribute: str = "race",
    threshold: str = "default",
) -> plt.Figure:
    """One panel per measure: x = variant, a point per group with its identity-bootstrap interval."""
    variants = _variant_order(rates.variant)
    fig, axes = plt.subplots(
        len(measures),
        1,
        figsize=(max(8, 0.7 * len(variants) + 3), 2.8 * len(measures)),
        squeeze=False,
    )
    for ax, measure in zip(axes[:, 0], measures):
        sub = rates[
            (rates.measure == measure)
            & rates.attribute.isin([attribute, "overall"])
            & rates.threshold.isin([threshold, "-"])
        ]
        groups = ["all"] + sorted(g for g in sub.group.unique() if g != "all")
        for k, group in enumerate(groups):
            g = sub[sub.group == group].set_index("variant").reindex(variants)
            x = np.arange(len(variants)) + (k - (len(groups) - 1) / 2) * 0.12
            y = g.value.to_numpy(dtype=float)
            lo = y - g.boot_low.to_numpy(dtype=float)
            hi = g.boot_high.to_numpy(dtype=float) - y
            n = int(g.n_identities.dropna().iloc[0]) if g.n_identities.notna().any() else 0
            ax.errorbar(
                x,
                y,
                yerr=np.nan_to_num(np.vstack([lo, hi]), nan=0.0),
                fmt="o" if group != "all" else "s",
                ms=4,
                capsize=2,
                color="k" if group == "all" else None,
                label=f"{group} ({n} ids)",
            )
        ax.set_xticks(range(len(variants)), variants, rotation=40, ha="right", fontsize=8)
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel(measure.replace("_", " "))
        ax.set_title(
            f"{measure} at the {threshold} threshold, by {attribute} (bars: identity bootstrap)",
            fontsize=9,
        )
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, ncol=4, loc="best")
    fig.tight_layout()
    return fig


def score_distributions(
    reid: pd.DataFrame, mated: pd.DataFrame, impostors: dict, thresholds: dict
) -> plt.Figure:
    """Re-identification, mated and impostor similarities per variant (strip plot) with the global thresholds.

    ``impostors`` maps variant -> impostor score sample.
    """
    variants = _variant_order(reid.probe_mask)
    fig, ax = plt.subplots(figsize=(max(8, 0.7 * len(variants) + 3), 4.5))
    jitter = np.random.default_rng(0)  # fixed: placement only, never data
    styles = [
        ("tab:green", "re-identification (own original)"),
        ("tab:blue", "verification genuine (other photo)"),
        ("tab:red", "verification impostor"),
    ]
    for k, variant in enumerate(variants):
        sets = [
            reid[reid.probe_mask == variant].score.dropna().to_numpy(),
            mated[(mated.probe_mask == variant) & (mated.comparison == "mated")]
            .score.dropna()
            .to_numpy(),
            np.asarray(impostors.get(variant, []), float),
        ]
        for j, (vals, (colour, label)) in enumerate(zip(sets, styles)):
            xs = k + (j - 1) * 0.22 + jitter.uniform(-0.07, 0.07, vals.size)
            ax.scatter(xs, vals, s=7, color=colour, alpha=0.6, label=label if k == 0 else None)
    for r, ls in zip(
        [r for r in thresholds["verification"] if np.isfinite(r["similarity"])],
        ["--", ":", "-.", "-"],
    ):
        ax.axhline(
            r["similarity"],
            color="k",
            ls=ls,
            lw=1,
            label=f"threshold {r['name']} ({r['similarity']:.3f})",
        )
    ax.set_xticks(range(len(variants)), variants, rotation=40, ha="right", fontsize=8)
    ax.set_ylabel("similarity (higher = more alike)")
    ax.set_title(
        "scores by comparison and mask variant (accept iff score >= threshold)", fontsize=10
    )
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def thin_steps(
    x: np.ndarray, y: np.ndarray, resolution: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """The points of a monotone step curve on log axes that fall in a new cell of ``resolution``
    decades (plus the last): a million-point DET curve becomes a few thousand, drawn the same at
    any figure size, so the figure's cost no longer grows with the number of comparisons."""
    cells = np.stack([np.floor(np.log10(x) / resolution), np.floor(np.log10(y) / resolution)])
    keep = np.ones(x.size, bool)
    keep[1:] = (np.diff(cells, axis=1) != 0).any(axis=0)
    keep[-1] = True
    return x[keep], y[keep]


def det_curves(curves: dict) -> plt.Figure:
    """``curves[variant][group] = (fmr, fnmr)`` arrays; one panel per variant, log-log axes."""
    variants = _variant_order(curves)
    cols = min(4, max(1, len(variants)))
    rows = -(-len(variants) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.ravel()[len(variants) :]:
        ax.set_axis_off()
    for ax, variant in zip(axes.ravel(), variants):
        for group, (fmr, fnmr, n_gen, n_imp) in curves[variant].items():
            if fmr.size:  # zero rates are drawn on the axis floor (log axes cannot show 0)
                x, y = thin_steps(np.maximum(fmr, 1e-4), np.maximum(fnmr, 1e-3))
                ax.step(
                    x,
                    y,
                    where="post",
                    color="k" if group == "all" else None,
                    label=f"{group} ({n_gen} gen, {n_imp} imp)",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-4, 1)
        ax.set_ylim(1e-3, 1)
        ax.set_xlabel("FMR", fontsize=8)
        ax.set_ylabel("FNMR", fontsize=8)
        ax.set_title(variant, fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    fig.suptitle("DET per group (mated vs demographically matched impostors)", fontsize=10)
    fig.tight_layout()
    return fig


def cmc_curves(ranks: dict, max_rank: int, note: str = "") -> plt.Figure:
    """``ranks[variant]`` = mate ranks of the mated searches (NaN = miss); identification rate vs rank.

    ``note``: why there is no curve (a comparison-only system whose 1:N was not run), written on the axes.
    """
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    r = np.arange(1, max_rank + 1)
    for variant in _variant_order(ranks):
        vals = np.asarray(ranks[variant], float)
        if vals.size == 0:
            continue
        rate = [(np.nan_to_num(vals, nan=np.inf) <= k).mean() for k in r]
        ax.plot(
            r,
            rate,
            marker="o",
            ms=3,
            lw=2 if variant == "none" else 1,
            label=f"{variant} (n={vals.size})",
        )
    ax.set_xlabel("rank (identities)")
    ax.set_ylabel("identification rate")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xticks(r)
    ax.set_title(
        "CMC: mated searches, own original excluded, candidates ranked by identity", fontsize=9
    )
    ax.grid(alpha=0.3)
    if note:
        ax.text(
            0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=8, wrap=True
        )
    else:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def forest(diff: pd.DataFrame) -> plt.Figure:
    """Max - min of the group rates (dot) beside its mean under shuffled group labels (cross), one row per
    differential: a description only (signed contrasts with intervals and verdicts are in the tests table)."""
    d = diff.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.22 * len(d) + 1)))
    y = np.arange(len(d))[::-1]
    ax.plot(d.difference, y, "o", ms=4, color="k", label="observed max - min")
    if "difference_null_mean" in d:
        ax.plot(
            d.difference_null_mean,
            y,
            "x",
            ms=5,
            color="tab:red",
            label="mean under no group difference",
        )
    labels = [
        f"{r.variant} {r.attribute} {r.measure}@{r.threshold} ({r.worst_group} vs {r.best_group})"
        for r in d.itertuples()
    ]
    ax.set_yticks(y, labels, fontsize=6)
    ax.axvline(0, color="grey", lw=1)
    ax.set_xlabel("worst - best group (rate difference; groups picked on the data)")
    ax.set_title("differentials against their null expectation (verdicts: tests table)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    if len(d):
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def heatmap(
    table: pd.DataFrame, measure: str = "reid_fnmr", threshold: str = "default"
) -> plt.Figure:
    """Panels per variant: rows = models, columns = groups, colour = the measure."""
    sub = table[(table.measure == measure) & (table.threshold == threshold)]
    variants = _variant_order(sub.variant)
    cols = min(4, max(1, len(variants)))
    rows = -(-len(variants) // cols)
    models = sorted(sub.model.unique())
    groups = sorted(sub.group.unique())
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.4 * cols, 0.5 * len(models) * rows + 2.2 * rows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.ravel()[len(variants) :]:
        ax.set_axis_off()
    for ax, variant in zip(axes.ravel(), variants):
        v = sub[sub.variant == variant].pivot_table(
            index="model", columns="group", values="value", aggfunc="first"
        )
        v = v.reindex(index=models, columns=groups)
        im = ax.imshow(v.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), val in np.ndenumerate(v.to_numpy(dtype=float)):
            ax.text(
                j,
                i,
                "NaN" if np.isnan(val) else f"{val:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="w" if np.isnan(val) or val < 0.5 else "k",
            )
        ax.set_xticks(range(len(groups)), groups, rotation=40, ha="right", fontsize=7)
        ax.set_yticks(range(len(models)), models, fontsize=7)
        ax.set_title(variant, fontsize=9)
    fig.colorbar(
        im, ax=axes.ravel().tolist(), shrink=0.6, label=f"{measure} ({threshold} threshold)"
    )
    return fig


def mask_colour(
    rates: pd.DataFrame,
    measure: str = "reid_rate",
    threshold: str = "default",
    attribute: str = "race",
) -> plt.Figure:
    """Grouped bars: x = mask colour, one bar per group, one panel per mask kind, baseline as a line."""
    sub = rates[
        (rates.measure == measure) & (rates.threshold == threshold) & (rates.attribute == attribute)
    ]
    masked = sub[sub.variant != "none"]
    kinds = sorted(masked.mask_kind.unique())
    groups = sorted(sub.group.unique())
    fig, axes = plt.subplots(
        1, max(1, len(kinds)), figsize=(4.2 * max(1, len(kinds)), 3.8), squeeze=False
    )
    base = sub[sub.variant == "none"].set_index("group").value
    for ax, kind in zip(axes[0], kinds):
        k = masked[masked.mask_kind == kind]
        colours = sorted(k.mask_colour.unique())
        width = 0.8 / max(1, len(groups))
        for j, group in enumerate(groups):
            g = k[k.group == group].set_index("mask_colour").reindex(colours)
            x = np.arange(len(colours)) - 0.4 + width * (j + 0.5)
            err = np.vstack([g.value - g.boot_low, g.boot_high - g.value]).astype(float)
            bars = ax.bar(
                x,
                g.value.to_numpy(dtype=float),
                width,
                yerr=np.nan_to_num(err, nan=0.0),
                capsize=2,
                label=group,
            )
            if group in base.index:
                ax.hlines(
                    base[group],
                    x[0] - width / 2,
                    x[-1] + width / 2,
                    colors=bars.patches[0].get_facecolor(),
                    linestyles="--",
                    lw=1,
                )
        ax.set_xticks(range(len(colours)), colours, fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{kind} masks", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel(f"{measure} ({threshold} threshold)")
    axes[0, -1].legend(fontsize=7, title=f"{attribute} (dashed: unmasked)", title_fontsize=7)
    fig.tight_layout()
    return fig


def clustering(table: pd.DataFrame, variant: str = "none") -> plt.Figure:
    """Clustering index C_k per principal component, one line per attribute, bars = explained variance."""
    sub = table[table.variant == variant]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for attribute in sorted(sub.attribute.unique()):
        a = sub[sub.attribute == attribute].sort_values("component")
        ax.plot(a.component, a.clustering_index, marker="o", label=f"C_k by {attribute}")
    first = sub.drop_duplicates("component").sort_values("component")
    ax.bar(
        first.component,
        first.explained_variance,
        color="lightgrey",
        label="explained variance",
        zorder=0,
    )
    ax.set_xlabel("principal component k of the subject x subject similarity matrix")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"demographic clustering index C_k ({variant})", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sheet_sample(statuses: list[str], limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``limit`` images for a contact sheet, in input order.

    Failures (status other than ``ok``) fill up to half the sheet, so they stay visible at scale;
    the rest is a uniform draw from ``rng`` over the remaining images.
    """
    failed = np.flatnonzero(np.asarray(statuses) != "ok")
    ok = np.flatnonzero(np.asarray(statuses) == "ok")
    if len(statuses) <= limit:
        return np.arange(len(statuses))
    keep_failed = rng.choice(failed, size=min(len(failed), limit // 2), replace=False)
    keep_ok = rng.choice(ok, size=min(len(ok), limit - len(keep_failed)), replace=False)
    return np.sort(np.concatenate([keep_failed, keep_ok]).astype(int))


def face_chips(
    chips: list[np.ndarray | None],
    labels: list[str],
    notes: list[str],
    per_row: int = 8,
    title: str | None = None,
) -> plt.Figure:
    """Aligned face chips in a grid; an image without a chip shows its failure reason instead."""
    n_rows = max(1, -(-len(chips) // per_row))
    fig, axes = plt.subplots(n_rows, per_row, figsize=(1.5 * per_row, 1.75 * n_rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, chip, label, note in zip(axes.ravel(), chips, labels, notes):
        if chip is None:
            ax.text(
                0.5,
                0.5,
                note.replace("_", " "),
                ha="center",
                va="center",
                fontsize=8,
                color="red",
                transform=ax.transAxes,
            )
        else:
            ax.imshow(chip)
        ax.set_title(label, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight() if title else 1))
    return fig
