"""Deterministic seeds derived from the master seed and names, stable across runs and machines."""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from ``parts`` (e.g. master seed, dataset, image id, variant) via SHA-256.

    Python's ``hash()`` is salted per process, so it is never used for seeding.
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def rng_for(*parts: object) -> np.random.Generator:
    return np.random.default_rng(derive_seed(*parts))
