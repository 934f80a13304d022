"""Figures of the mitigation stage: training curves and the before/after view (plain tables in)."""

from __future__ import annotations

import matplotlib.pyplot as plt  # noqa: E402, I001
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from maskaudit.plots import save  # noqa: F401  (sets the Agg backend; re-exported for the scripts)


def training_curves(curves: dict[str, pd.DataFrame]) -> plt.Figure:
    """Per head: validation loss by epoch (epoch 0 = untrained), normalised to its epoch-0 value, and
    the validation masked-unmasked and impostor cosine distances."""
    fig, (ax_loss, ax_dist) = plt.subplots(1, 2, figsize=(11, 4))
    for k, (head, c) in enumerate(sorted(curves.items())):
        colour = f"C{k}"
        v0 = c.val_loss.iloc[0]
        scale = abs(v0) if np.isfinite(v0) and v0 != 0 else 1.0
        ax_loss.plot(c.epoch, c.val_loss / scale, color=colour, label=f"{head} val")
        ax_loss.plot(c.epoch, c.train_loss / scale, color=colour, ls=":", label=f"{head} train")
        ax_dist.plot(
            c.epoch, c.val_pair_distance, color=colour, label=f"{head} masked vs own unmasked"
        )
        ax_dist.plot(
            c.epoch, c.val_impostor_distance, color=colour, ls="--", label=f"{head} impostors"
        )
    ax_loss.set(
        xlabel="epoch",
        ylabel="loss / untrained validation loss",
        title="training and validation loss",
    )
    ax_dist.set(
        xlabel="epoch", ylabel="mean cosine distance (validation identities)", title="distances"
    )
    for ax in (ax_loss, ax_dist):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def before_after(table: pd.DataFrame) -> plt.Figure:
    """Per mask variant, base vs each head: masked-to-own-unmasked distance relative to impostor
    distance (left) and FNMR at the loosest supported FMR threshold (right), with intervals."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    systems = list(dict.fromkeys(table.system))
    variants = sorted(set(table.variant))
    fnmr = table[(table.measure == "fnmr") & table.supported]
    threshold = (
        sorted(set(fnmr.threshold), key=lambda t: -float(t.split("_")[-1]))[0]
        if len(fnmr)
        else None
    )
    panels = [
        ("reid_distance_ratio", "-", "masked vs own unmasked / impostor distance"),
        (
            "fnmr",
            threshold,
            f"masked FNMR at {threshold}" if threshold else "FNMR: no supported threshold",
        ),
    ]
    width = 0.8 / max(len(systems), 1)
    for ax, (measure, thr, title) in zip(axes, panels):
        for k, system in enumerate(systems):
            sub = (
                table[
                    (table.system == system)
                    & (table.measure == measure)
                    & (table.threshold == thr)
                    & (table.group == "all")
                ]
                .set_index("variant")
                .reindex(variants)
            )
            x = np.arange(len(variants)) + (k - (len(systems) - 1) / 2) * width
            err = np.vstack([sub.value - sub.low, sub.high - sub.value]).clip(min=0)
            ax.bar(
                x, sub.value, width, yerr=np.nan_to_num(err), capsize=2, color=f"C{k}", label=system
            )
        ax.set_xticks(np.arange(len(variants)), variants, rotation=20, fontsize=8)
        ax.set(title=title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7)
    label = table.eval_identities.iloc[0] if len(table) else ""
    fig.suptitle(f"before/after on {label} (identity-bootstrap intervals)", fontsize=9)
    fig.tight_layout()
    return fig
