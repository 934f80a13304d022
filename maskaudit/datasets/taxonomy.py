"""The project-wide gender and race taxonomy that cross-dataset tables group by.

Every dataset labels people in its own vocabulary (UTKFace codes ``0``-``4``, FairFace's seven
groups, RFW's ``Caucasian``/``African``, CFD's ``W``/``B``/``L``/``A``...). Adapters map those
values onto the labels below; the dataset's own value is always kept beside it in
``gender_original`` / ``race_original``. A value a dataset does not give stays ``unknown``; a value
the mapping does not know becomes ``unknown`` *and* is listed in the issues sidecar, so nothing
is guessed and nothing vanishes.

Merges are coarse on purpose, and documented here once:

- ``Asian`` covers East and Southeast Asian (FairFace's two groups, UTKFace ``2``, RFW/BFW Asian);
  South Asian faces are ``Indian`` wherever the source separates them (FairFace, UTKFace, RFW, BFW,
  CFD-INDIA).
- ``Latino`` is FairFace's ``Latino_Hispanic`` and CFD's self-identified Latino/a.
- ``Other`` is a source's own catch-all (UTKFace ``4``: "Others, like Hispanic, Latino, Middle
  Eastern"), never a residue of this project.
- ``Multiracial`` is CFD-MR's self-identified multiracial models.

These are dataset labels (mostly annotator-perceived; CFD's are self-reported), not anyone's
identity; reports name the source of each label column.
"""

from __future__ import annotations

import pandas as pd

UNKNOWN = "unknown"
GENDERS = ("female", "male")
RACES = ("Asian", "Black", "Indian", "Latino", "Middle Eastern", "White", "Other", "Multiracial")


def is_known(value: str, vocabulary: tuple[str, ...]) -> bool:
    return value in vocabulary


def map_labels(
    original: pd.Series, mapping: dict[str, str], vocabulary: tuple[str, ...]
) -> tuple[pd.Series, pd.Series]:
    """Map source values onto the taxonomy.

    Returns ``(mapped, unknown_code)``: ``mapped`` is the taxonomy label (``unknown`` when the source
    gives no value or a value ``mapping`` lacks); ``unknown_code`` is True exactly where a non-empty
    source value was not in ``mapping`` (those rows belong in the issues sidecar).
    """
    bad = sorted(set(mapping.values()) - set(vocabulary) - {UNKNOWN})
    if bad:
        raise ValueError(f"mapping targets {bad} are not in the taxonomy {vocabulary}")
    values = original.fillna("").astype(str).str.strip()
    mapped = pd.Series([mapping.get(v) for v in values], index=values.index, dtype=object)
    unknown_code = mapped.isna() & (values != "")
    return mapped.fillna(UNKNOWN).astype(str), unknown_code
