"""Does a mask protect my privacy? Probes that predict protected attributes from embeddings.

:mod:`.probe` trains linear and small MLP probes on a system's cached embeddings to predict gender,
race, the seven age buckets of the seed study (plus age as a regression), from unmasked and from
masked faces, and from unmasked training faces to masked test faces, with identity-disjoint
cross-validation, identity-bootstrap intervals and chance levels.
"""

# The seed study (AJCAI 2021, "Does a Face Mask Protect my Privacy?", seed 004): CNNs trained end to
# end on UTKFace, unmasked vs synthetically masked (random split). Not the same setting as a probe on
# a frozen face-recognition embedding: printed beside our numbers for orientation only.
REFERENCE_UTKFACE = {
    "gender": {"measure": "accuracy", "unmasked": 0.9823, "masked": 0.9401},
    "race": {"measure": "accuracy", "unmasked": 0.9123, "masked": 0.8220},
    "age_bucket": {
        "measure": "accuracy",
        "unmasked": 0.701,
        "masked": 0.6794,
    },  # masked: its uniform split
    "age": {"measure": "mae", "unmasked": 5.44, "masked": 6.21},
}

# The seed's seven age groups (inclusive ranges in years; "61 and above").
AGE_BUCKETS = (
    ("baby", 0, 3),
    ("child", 4, 12),
    ("teenager", 13, 19),
    ("young", 20, 30),
    ("adult", 31, 45),
    ("middle_aged", 46, 60),
    ("senior", 61, 200),
)


def age_bucket(age) -> str:
    """The seed's age group of ``age`` in years (fractions floored); ``""`` when unknown."""
    try:
        years = int(float(age) // 1)
    except (TypeError, ValueError):
        return ""
    if years != years or years < 0:
        return ""
    return next((name for name, lo, hi in AGE_BUCKETS if lo <= years <= hi), "")
