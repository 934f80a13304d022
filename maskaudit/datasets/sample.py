"""Seeded, stratified subsampling that balances gender x race cells and keeps identities whole.

Each identity is assigned to one cell: the (gender, race) most of its images carry (ties broken by
the sorted cell name). That assignment only steers sampling; every row keeps its own labels. Within
a cell, identities are visited in an order drawn from a generator seeded by (seed, dataset, cell)
and taken whole until the cell holds ``images_per_cell`` images (the last identity may overshoot;
a cell with fewer images is taken entirely: "where the data allows"). Before that, identities with
fewer than ``min_images_per_identity`` images are left out, and identities with more than
``max_images_per_identity`` keep a seeded subset. Same data + same config -> same rows.
"""

from __future__ import annotations

import pandas as pd

from maskaudit.seeding import rng_for

CELLS = ("gender", "race")


def identity_cells(df: pd.DataFrame) -> pd.Series:
    """The (gender, race) cell of each identity: its most frequent pair, ties by sorted name."""
    pairs = df.gender + "/" + df.race
    counts = (
        pd.DataFrame({"identity": df.identity, "cell": pairs}).value_counts().reset_index(name="n")
    )
    counts = counts.sort_values(
        ["identity", "n", "cell"], ascending=[True, False, True], kind="stable"
    )
    return counts.drop_duplicates("identity").set_index("identity").cell


def stratified_sample(
    df: pd.DataFrame,
    *,
    seed: int,
    dataset: str,
    images_per_cell: int | None = None,
    min_images_per_identity: int = 1,
    max_images_per_identity: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(sample, cells)``; ``cells`` reports each cell before and after sampling."""
    sizes = df.groupby("identity").size()
    eligible = df[df.identity.map(sizes) >= min_images_per_identity]
    if max_images_per_identity:
        kept = []
        for ident, rows in eligible.groupby("identity", sort=True):
            if len(rows) > max_images_per_identity:
                order = rng_for(seed, dataset, "identity", ident).permutation(len(rows))
                rows = rows.iloc[sorted(order[:max_images_per_identity])]
            kept.append(rows)
        eligible = pd.concat(kept) if kept else eligible.iloc[:0]
    cell_of = identity_cells(eligible) if len(eligible) else pd.Series(dtype=str)
    chosen, report = [], []
    for cell in sorted(set(cell_of)):
        idents = sorted(cell_of.index[cell_of == cell])
        rows = eligible[eligible.identity.isin(idents)]
        per = rows.groupby("identity").size()
        if images_per_cell is None:
            take = idents
        else:
            order = rng_for(seed, dataset, "cell", cell).permutation(len(idents))
            take, total = [], 0
            for k in order:
                if total >= images_per_cell:
                    break
                take.append(idents[k])
                total += int(per[idents[k]])
        picked = rows[rows.identity.isin(take)]
        chosen.append(picked)
        sizes_picked = picked.groupby("identity").size()
        gender, race = cell.split("/", 1)
        report.append(
            {
                "gender": gender,
                "race": race,
                "available_images": len(rows),
                "available_identities": len(idents),
                "sampled_images": len(picked),
                "sampled_identities": int(sizes_picked.size),
                "identities_with_2plus_images": int((sizes_picked >= 2).sum()),
                "target_images": "" if images_per_cell is None else images_per_cell,
                "short_by": 0 if images_per_cell is None else max(0, images_per_cell - len(picked)),
            }
        )
    sample = pd.concat(chosen) if chosen else df.iloc[:0]
    sample = sample.sort_values("image_id", kind="stable").reset_index(drop=True)
    return sample, pd.DataFrame(report)
