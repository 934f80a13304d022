"""List prices per billed call, USD, for the plan and the money cap. Versioned: re-check before a paid run.

Each entry: (price per call in USD, source, date read). Prices are first-tier list prices; a cap in
money is therefore an upper estimate for large runs that reach cheaper tiers. ``None`` = not billed.
"""

from __future__ import annotations

PRICES_VERSION = "2026-05-28"

_REKOGNITION = (
    0.001,
    "https://aws.amazon.com/rekognition/pricing/ (Group 1, us-east-1, first 1 M images/month)",
)
_AZURE = (
    0.001,
    "https://azure.microsoft.com/pricing/details/cognitive-services/face-api/ (S0, first 1 M transactions) [secondary]",
)
_FACEPP = (
    0.001,
    "https://www.faceplusplus.com/v2/pricing/ [unverified: assumed like the others; set max_calls]",
)
_FACEX = (
    0.001,
    "https://facex.io (paid plan) [unverified: assumed like the others; set max_calls]",
)

PRICES: dict[str, dict[str, tuple[float, str] | None]] = {
    "rekognition": {
        "compare": _REKOGNITION,
        "detect": _REKOGNITION,
        "create_gallery": None,
        "enroll": _REKOGNITION,
        "search": _REKOGNITION,
        "delete_gallery": None,
        "list_galleries": None,
    },
    "azure": {
        "compare": _AZURE,
        "detect": _AZURE,
        "create_gallery": _AZURE,
        "enroll": _AZURE,
        "add_person": _AZURE,
        "train": _AZURE,
        "training_status": _AZURE,
        "search": _AZURE,
        "delete_gallery": _AZURE,
        "list_galleries": _AZURE,
    },
    "facepp": {
        "compare": _FACEPP,
        "detect": _FACEPP,
        "create_gallery": None,
        "enroll": None,
        "search": _FACEPP,
        "delete_gallery": None,
        "list_galleries": None,
    },
    "facex": {"compare": _FACEX, "detect": _FACEX},
}


def price(vendor: str, operation: str) -> float:
    entry = PRICES[vendor].get(operation)
    return 0.0 if entry is None else entry[0]
