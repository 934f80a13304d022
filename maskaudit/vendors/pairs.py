"""Which 1:1 comparisons a vendor is paid for: every vendor and variant gets the same seeded set.

For each probe ``i`` (the variant's image; the unmasked image itself for variant ``none``):

* ``reidentification``: ``i`` vs its own unmasked original (always sent; for ``none`` the image vs itself);
* ``mated``: ``i`` vs every other unmasked photo of the same identity;
* ``non_mated``: ``i`` vs ``impostors_per_probe`` unmasked photos of other identities, drawn without
  replacement by a generator seeded from (seed, dataset) alone, so all vendors and variants share them.

The unmasked baseline counts each unordered pair of photos once, so for variant ``none`` a pair
``(i, j)`` is sent as ``(min, max)`` of the two gallery positions and duplicates are dropped. Cells
never sent stay NaN in the comparisons file ("not compared"), which scoring does not count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.seeding import rng_for


def vendor_pairs(
    image_ids, identities, *, seed: int, dataset: str, impostors_per_probe: int, baseline: bool
) -> pd.DataFrame:
    """``probe_id, ref_id, comparison`` rows in a fixed order (probe order, then reference position)."""
    ids = np.asarray(image_ids, dtype=str)
    ident = np.asarray(identities, dtype=str)
    rng = rng_for(seed, dataset, "vendor-impostor-pairs")
    cells: dict[tuple[int, int], str] = {}
    for i in range(len(ids)):
        chosen = [(i, "reidentification")]
        chosen += [(j, "mated") for j in np.flatnonzero(ident == ident[i]) if j != i]
        others = np.flatnonzero(ident != ident[i])
        if len(others) and impostors_per_probe:
            pick = rng.choice(
                len(others), size=min(impostors_per_probe, len(others)), replace=False
            )
            chosen += [(int(others[k]), "non_mated") for k in sorted(pick)]
        for j, kind in chosen:
            cell = (min(i, j), max(i, j)) if baseline else (i, j)
            cells.setdefault(cell, kind)
    rows = sorted(cells.items())
    return pd.DataFrame(
        {
            "probe_id": [ids[p] for (p, _), _ in rows],
            "ref_id": [ids[g] for (_, g), _ in rows],
            "comparison": [kind for _, kind in rows],
        }
    )
