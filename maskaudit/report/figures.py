"""The page's figures as small, deterministic SVG (text stays text, so a figure is a few kB).

Palettes are colour-blind safe: ``cividis`` for the heatmap (monotone in lightness, readable in
grey) and the Okabe-Ito colours with a distinct marker per group for the card plots (so print in
grey still separates groups). Every axis names its quantity and unit. The figures are embedded in
the page as percent-encoded ``data:image/svg+xml`` images; the numbers behind them sit in a table right below each
figure, every cell a link to its source row.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442", "#999999"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<"]
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "maskaudit",
    "font.size": 8,
    "font.family": "DejaVu Sans",
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
}
PAGE_WIDTH_IN = 6.3  # A4 with 20 mm margins, minus a little
_BETWEEN_TAGS = re.compile(r">\s+<")
_DECIMALS = re.compile(r"(?<=[ ,:(\"LMCHVlmchv-])(\d+\.\d{2})\d+")


def to_svg(fig) -> str:
    """The figure as SVG text, without date or creator (same inputs, same bytes)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    # coordinates to 0.01 pt (matplotlib writes 6 decimals): the same drawing, fewer bytes,
    # and without the indentation between tags
    return _BETWEEN_TAGS.sub("><", _DECIMALS.sub(r"\1", buf.getvalue()))


def data_uri(svg: str) -> str:
    """The SVG as a ``data:`` URI, percent-encoded where it must be (``"``, ``#``, ``%``, ``&``, controls
    and non-ASCII): about a quarter smaller than base64, which inflates every byte by a third."""
    return "data:image/svg+xml;charset=utf-8," + quote(svg, safe=" !$'()*+,-./:;<=>?@[]^_`{|}~")


def heatmap(
    values: np.ndarray,
    rows: list[str],
    cols: list[str],
    flagged: np.ndarray,
    *,
    quantity: str,
    title: str,
) -> str:
    """Systems (``rows``) x mask variants (``cols``), cells coloured by ``values`` (a proportion), the
    value printed in each cell while cells are wide enough; ``*`` marks a small-sample cell, grey
    ``n/a`` a missing one. The longer of the two lists runs down the page, so the figure fits its width."""
    systems_across = len(cols) > len(rows)
    if systems_across:
        values, flagged, rows, cols = values.T, flagged.T, cols, rows
    with plt.rc_context(STYLE):
        n_r, n_c = values.shape
        fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 1.3 + 0.26 * n_r), layout="constrained")
        finite = values[np.isfinite(values)]
        vmax = max(0.1, float(np.ceil(finite.max() * 10) / 10)) if finite.size else 1.0
        cmap = plt.get_cmap("cividis").with_extremes(bad="#dddddd")
        im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
        if n_c <= 10:  # otherwise the numbers are in the table under the figure only
            for (i, j), v in np.ndenumerate(values):
                text = "n/a" if not np.isfinite(v) else f"{v:.3f}" + ("*" if flagged[i, j] else "")
                dark = np.isfinite(v) and im.norm(v) <= 0.6
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7 if n_c <= 6 else 6,
                    color="white" if dark else "black",
                )
        ax.set_xticks(
            range(n_c), cols, rotation=30 if n_c > 3 else 0, ha="right" if n_c > 3 else "center"
        )
        ax.set_yticks(range(n_r), rows)
        variant_axis, system_axis = "mask variant (none = unmasked baseline)", "system · dataset"
        ax.set_xlabel(system_axis if systems_across else variant_axis)
        ax.set_ylabel(variant_axis if systems_across else system_axis)
        ax.set_title(title)
        fig.colorbar(im, ax=ax, label=f"{quantity}\n(proportion, 0-1)", shrink=0.9, pad=0.01)
        return to_svg(fig)


def group_panels(panels: dict, variants: list[str], *, quantity: str) -> str:
    """One panel per attribute: x = mask variant, y = ``quantity`` per group (point + interval), the
    whole dataset as black diamonds. ``panels[attribute] = {group: [(value, low, high), ...]}`` in
    ``variants`` order, with the group ``all`` for the whole dataset."""
    with plt.rc_context(STYLE):
        n = max(1, len(panels))
        fig, axes = plt.subplots(
            n,
            1,
            figsize=(PAGE_WIDTH_IN, 0.6 + 1.9 * n),
            squeeze=False,
            layout="constrained",
            sharex=True,
        )
        x = np.arange(len(variants))
        for ax, (attribute, groups) in zip(axes[:, 0], panels.items()):
            names = [g for g in groups if g != "all"]
            width = 0.7 / max(1, len(names) + 1)
            for k, g in enumerate(["all", *names]):
                pts = np.array(groups[g], dtype=float).reshape(-1, 3)
                off = (k - len(names) / 2) * width
                colour = "black" if g == "all" else OKABE_ITO[(k - 1) % len(OKABE_ITO)]
                marker = "D" if g == "all" else MARKERS[(k - 1) % len(MARKERS)]
                y, lo, hi = pts[:, 0], pts[:, 1], pts[:, 2]
                has = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(y)
                err = np.vstack([np.where(has, y - lo, 0), np.where(has, hi - y, 0)])
                ax.errorbar(
                    x + off,
                    y,
                    yerr=err,
                    fmt=marker,
                    color=colour,
                    ms=4,
                    lw=1,
                    capsize=2,
                    label="whole dataset" if g == "all" else g,
                )
            ax.set_ylabel(f"{quantity}\n(proportion)")
            ax.set_title(f"by {attribute}", loc="left")
            ax.set_ylim(-0.03, 1.03)
            ax.grid(axis="y", alpha=0.3)
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        axes[-1, 0].set_xticks(x, variants, rotation=20, ha="right")
        axes[-1, 0].set_xlabel(
            "mask variant (none = unmasked baseline); bars: 95 % identity-bootstrap intervals"
        )
        return to_svg(fig)
