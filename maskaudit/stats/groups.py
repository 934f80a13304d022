"""Demographic groups of identities: the attributes tables break results down by."""

from __future__ import annotations

import pandas as pd

ATTRIBUTES = ("overall", "gender", "race", "gender_race")
UNKNOWN = "unknown"


def identity_groups(manifest: pd.DataFrame, identities) -> pd.DataFrame:
    """One row per identity (in ``identities`` order) with its group in each attribute.

    An identity's labels are those of its first image in the manifest.
    """
    first = manifest.drop_duplicates("identity").set_index("identity")
    out = pd.DataFrame(index=pd.Index(list(identities), name="identity"))
    out["overall"] = "all"
    out["gender"] = first.gender.astype(str).reindex(out.index).to_numpy()
    out["race"] = first.race.astype(str).reindex(out.index).to_numpy()
    out["gender_race"] = out.gender + "/" + out.race
    return out


def known(group: str) -> bool:
    """False for ``unknown`` and any intersection containing it (left out of differentials)."""
    return UNKNOWN not in group.split("/")


def known_groups(groups: pd.DataFrame, attribute: str) -> list[str]:
    return sorted(g for g in set(groups[attribute]) if known(g))
