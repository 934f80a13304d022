"""The optional identity-disjoint calibration split: who fixes the thresholds, who is audited.

**Default** (``protocol.calibration_share: 0``): the global thresholds are fixed on the impostors of
the unmasked baseline and every rate is then evaluated on those same impostors. The realised
baseline FMR at an FMR threshold is therefore its target by construction (it is the calibration, not
an independent estimate), and a group's baseline FMR is measured on impostors that helped set the
threshold. Masked variants are new comparisons, but share identities with the calibration set.

**Split** (``protocol.calibration_share`` = s > 0): ``round(s * n)`` identities (at least one, at
most all but two), drawn without replacement by a generator seeded from ``(seed, dataset)`` among
the identities not held out of the open-set gallery, form the calibration set. The thresholds are
fixed only on baseline comparisons with **both** sides in it (impostor pairs for FMR, non-mated
searches of calibration probes for FPIR); every rate leaves out every comparison or search that
involves a calibration identity on either side, so thresholds and rates rest on disjoint people.
The same split serves every model and mask variant. The cost: fewer identities in the audit and
fewer impostors to fix the thresholds (a target needs ``10 / target`` of them).
"""

from __future__ import annotations

import numpy as np

from maskaudit.seeding import rng_for


def calibration_identities(
    identities, share: float, seed: int, dataset: str, exclude=()
) -> set[str]:
    """The calibration identities (strings); empty when ``share == 0``."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"protocol.calibration_share must be in [0, 1), got {share}")
    uniq = np.array(sorted(set(map(str, identities)) - set(map(str, exclude))))
    if share == 0 or uniq.size < 3:
        return set()
    k = min(max(1, int(round(share * uniq.size))), uniq.size - 2)
    rng = rng_for(seed, dataset, "calibration-split")
    return set(uniq[np.sort(rng.choice(uniq.size, size=k, replace=False))].tolist())
