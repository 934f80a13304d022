"""The 1:1 comparison protocol: which (probe, reference) pairs are scored.

Probes are the (masked) images, references the unmasked originals. For every probe image ``i``:

* ``same_image``: ``i`` against its own unmasked original (genuine; the paper's re-identification);
* ``mated``: ``i`` against every other image of the same identity (genuine, different photo);
* ``non_mated``: ``i`` against ``k`` images of other identities, drawn without replacement by a
  generator seeded from (seed, dataset) alone, so every model and mask variant sees the same pairs.
"""

from __future__ import annotations

import pandas as pd

from maskaudit.seeding import rng_for

GENUINE = ("same_image", "mated")


def verification_pairs(manifest: pd.DataFrame, impostors_per_probe: int, seed: int, dataset: str) -> pd.DataFrame:
    rng = rng_for(seed, dataset, "impostor-pairs")
    ids = manifest.image_id.to_numpy()
    identity = manifest.identity.to_numpy()
    rows = []
    for i, probe in enumerate(ids):
        rows.append((probe, probe, "same_image"))
        rows.extend((probe, ref, "mated") for j, ref in enumerate(ids) if j != i and identity[j] == identity[i])
        others = ids[identity != identity[i]]
        if len(others):
            chosen = rng.choice(len(others), size=min(impostors_per_probe, len(others)), replace=False)
            rows.extend((probe, others[j], "non_mated") for j in sorted(chosen))
    return pd.DataFrame(rows, columns=["probe_id", "ref_id", "comparison"])
