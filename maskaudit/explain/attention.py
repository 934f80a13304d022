"""The attention-shift measure: how much of a system's map moves between face regions under a mask.

For a photo ``i`` explained unmasked and under variant ``v`` (same system, method and photo), the
shift of region ``R`` is ``shift_i(R) = share_v,i(R) - share_none,i(R)`` (:mod:`~maskaudit.explain.regions`);
it is defined only when both maps exist. A group's value is the mean over its photos,
``sum_a S_a / sum_a n_a`` with ``S_a`` the sum of identity ``a``'s shifts and ``n_a`` its photo count
(the same ratio form as every rate in :mod:`maskaudit.stats.bootstrap`). Shares are averaged the same way.

**Intervals** resample identities (:func:`maskaudit.stats.bootstrap.identity_weights`), with one set
of replicates per dataset, seeded from (seed, dataset), shared by every system, variant, region and
group: differences between them are paired. Percentile intervals at ``level``; NaN when fewer than
two identities contribute.

**Group contrasts** (:func:`group_contrast`): for two groups of an attribute, ``d = shift_g1 - shift_g2``
(signed: positive when g1's map moves more towards the region), computed by the project's signed,
paired machinery, :func:`maskaudit.stats.contrasts.difference_in_differences` (masked and unmasked
share sums of each identity's photos as the two conditions): a bootstrap-t interval over identities
resampled within groups and a two-sided permutation p-value of the studentised statistic; no
interval or p-value (``reason``) for a group with fewer than ``min_identities`` identities. Holm's
correction runs over the family of one (system, dataset, variant, attribute): every region and pair.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from maskaudit.explain import REGIONS
from maskaudit.seeding import rng_for
from maskaudit.stats.bootstrap import identity_weights, interval, ratio_1d
from maskaudit.stats.permutation import holm

ATTRIBUTES = ("overall", "gender", "race")


def image_table(explanations: dict, manifest: pd.DataFrame) -> pd.DataFrame:
    """Long per-photo table: one row per (model, variant, image) with identity, groups, status, method
    and ``share_<region>``. ``explanations`` maps (model, variant) -> loaded explanation file."""
    labels = manifest.set_index("image_id")
    rows = []
    for (model, variant), e in sorted(explanations.items()):
        for k, image_id in enumerate(e["image_id"].tolist()):
            lab = labels.loc[image_id]
            rows.append(
                {
                    "model": model,
                    "variant": variant,
                    "method": e["meta"]["method"],
                    "image_id": image_id,
                    "identity": lab["identity"],
                    "gender": lab.get("gender", "unknown"),
                    "race": lab.get("race", "unknown"),
                    "status": str(e["status"][k]),
                    **{f"share_{r}": float(e["shares"][k, j]) for j, r in enumerate(REGIONS)},
                }
            )
    return pd.DataFrame(rows)


def _sums(values: np.ndarray, units: np.ndarray, n_units: int, select: np.ndarray):
    """Per-identity sums and counts of the finite ``values`` whose row is in ``select``."""
    ok = select & np.isfinite(values)
    return (
        np.bincount(units[ok], weights=values[ok], minlength=n_units),
        np.bincount(units[ok], minlength=n_units).astype(float),
    )


def _estimate(weights, sums, counts, level):
    value = sums.sum() / counts.sum() if counts.sum() > 0 else np.nan
    if np.count_nonzero(counts) < 2:
        return value, np.nan, np.nan
    return (value, *interval(ratio_1d(weights, sums, counts), level))


def group_contrast(
    masked_sums,
    unmasked_sums,
    counts,
    in_1,
    in_2,
    *,
    n_boot: int,
    n_perm: int,
    rng: np.random.Generator,
    level: float = 0.95,
    min_identities: int = 2,
    names=("1", "2"),
) -> dict:
    """Signed, paired difference of two groups' mean shifts, ``shift_1 - shift_2``.

    Per identity: ``masked_sums`` / ``unmasked_sums`` are the sums of a region's share over its photos
    mapped under both conditions, ``counts`` how many; ``in_1`` / ``in_2`` the groups' identities. This is
    the one place the explanation stage calls the statistics machinery for a group difference
    (:func:`maskaudit.stats.contrasts.difference_in_differences`). Returns ``difference``, ``low``,
    ``high``, ``p_permutation``, the identities per group and ``reason`` when untested.
    """
    from maskaudit.stats.contrasts import difference_in_differences

    c = difference_in_differences(
        masked_sums,
        counts,
        unmasked_sums,
        counts,
        in_1,
        in_2,
        n_boot=n_boot,
        n_perm=n_perm,
        rng=rng,
        level=level,
        min_identities=min_identities,
        names=names,
    )
    return {
        "difference": c.estimate,
        "low": c.ci_low,
        "high": c.ci_high,
        "p_permutation": c.p_value,
        "n_units_1": c.n_identities_a,
        "n_units_2": c.n_identities_b,
        "reason": c.reason,
    }


def attention_tables(
    images: pd.DataFrame,
    *,
    dataset: str,
    seed: int,
    n_boot: int,
    n_perm: int,
    level: float = 0.95,
    min_identities: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(shifts, contrasts)`` for one dataset's per-photo table (:func:`image_table`)."""
    identities = sorted(images.identity.unique())
    unit_of = {a: k for k, a in enumerate(identities)}
    weights = identity_weights(
        np.zeros(len(identities), int), n_boot, rng_for(seed, "explain-bootstrap", dataset)
    )
    base = images[images.variant == "none"].set_index(["model", "image_id"])
    shift_rows, contrast_rows = [], []
    for (model, variant), part in images[images.variant != "none"].groupby(
        ["model", "variant"], sort=True
    ):
        part = part.set_index("image_id")
        ref = base.loc[model].reindex(part.index)
        units = np.array([unit_of[a] for a in part.identity])
        both = (part.status == "ok").to_numpy() & (ref.status == "ok").to_numpy()
        method = part.method.iloc[0]
        for attribute in ATTRIBUTES:
            groups = ["overall"] if attribute == "overall" else sorted(part[attribute].unique())
            for group in groups:
                member = (
                    np.ones(len(part), bool)
                    if attribute == "overall"
                    else (part[attribute] == group).to_numpy()
                )
                for region in REGIONS:
                    masked, unmasked = (
                        part[f"share_{region}"].to_numpy(),
                        ref[f"share_{region}"].to_numpy(),
                    )
                    row = {
                        "model": model,
                        "dataset": dataset,
                        "method": method,
                        "variant": variant,
                        "attribute": attribute,
                        "group": group,
                        "region": region,
                    }
                    for name, values in (
                        ("share_unmasked", unmasked),
                        ("share_masked", masked),
                        ("shift", masked - unmasked),
                    ):
                        s, c = _sums(values, units, len(identities), member & both)
                        row[name], row[f"{name}_low"], row[f"{name}_high"] = _estimate(
                            weights, s, c, level
                        )
                    row.update(
                        n_images=int((member & both).sum()),
                        n_units=int(len(set(units[member & both]))),
                        n_failed=int((member & ~both).sum()),
                    )
                    shift_rows.append(row)
            if attribute == "overall":
                continue
            per_identity = part.groupby("identity")[attribute].first()
            known = sorted(g for g in per_identity.unique() if g != "unknown")
            codes = np.array(
                [
                    known.index(per_identity.get(a)) if per_identity.get(a) in known else -1
                    for a in identities
                ]
            )
            family = []
            for (i1, g1), (i2, g2) in itertools.combinations(enumerate(known), 2):
                for region in REGIONS:
                    masked, unmasked = (
                        part[f"share_{region}"].to_numpy(),
                        ref[f"share_{region}"].to_numpy(),
                    )
                    ms, c = _sums(masked, units, len(identities), both)
                    us, _ = _sums(unmasked, units, len(identities), both)
                    res = group_contrast(
                        ms,
                        us,
                        c,
                        codes == i1,
                        codes == i2,
                        n_boot=n_boot,
                        n_perm=n_perm,
                        rng=rng_for(
                            seed, "explain-contrast", dataset, model, variant, attribute, region
                        ),
                        level=level,
                        min_identities=min_identities,
                        names=(g1, g2),
                    )
                    family.append(
                        {
                            "model": model,
                            "dataset": dataset,
                            "method": method,
                            "variant": variant,
                            "attribute": attribute,
                            "group_1": g1,
                            "group_2": g2,
                            "region": region,
                            "measure": "shift",
                            **res,
                        }
                    )
            for row, p in zip(family, holm([r["p_permutation"] for r in family])):
                row["p_holm"] = p
            contrast_rows += family
    contrast_cols = [
        "model",
        "dataset",
        "method",
        "variant",
        "attribute",
        "group_1",
        "group_2",
        "region",
        "measure",
        "difference",
        "low",
        "high",
        "p_permutation",
        "p_holm",
        "n_units_1",
        "n_units_2",
        "reason",
    ]
    shift_cols = (
        ["model", "dataset", "method", "variant", "attribute", "group", "region"]
        + [
            f"{m}{s}"
            for m in ("share_unmasked", "share_masked", "shift")
            for s in ("", "_low", "_high")
        ]
        + ["n_images", "n_units", "n_failed"]
    )
    return pd.DataFrame(shift_rows, columns=shift_cols), pd.DataFrame(
        contrast_rows, columns=contrast_cols
    )
