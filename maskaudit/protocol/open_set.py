"""The open-set split: a seeded share of identities is held out of the identification gallery.

Their probes become non-mated searches (FPIR); the others, when the gallery still holds another
photo of them, are mated searches (FNIR). The split depends on (seed, dataset) and the identity
list only, so every model and mask variant sees the same one.
"""

from __future__ import annotations

import numpy as np

from maskaudit.seeding import rng_for


def held_out_identities(identities, share: float, seed: int, dataset: str) -> set[str]:
    """``round(share * n)`` identities (at least one when ``share > 0`` and n > 1), drawn without
    replacement from the sorted unique identities by a generator seeded from (seed, dataset)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"protocol.open_set_holdout must be in [0, 1), got {share}")
    uniq = np.array(sorted(set(map(str, identities))))
    if share == 0 or uniq.size < 2:
        return set()
    k = min(max(1, int(round(share * uniq.size))), uniq.size - 1)
    rng = rng_for(seed, dataset, "open-set-holdout")
    return set(uniq[np.sort(rng.choice(uniq.size, size=k, replace=False))].tolist())
