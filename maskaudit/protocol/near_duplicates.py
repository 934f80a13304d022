"""Near-duplicate photos of one identity, found by a perceptual hash of the aligned face.

Two photos of the same person that are really one picture (cropped, rescaled or re-encoded
differently) would make a "mated" comparison as easy as comparing an image with itself, so they are
flagged in the protocol's image table and kept out of the mated set and the identification gallery.

Hash (pHash): the aligned 150 x 150 face chip (dlib alignment from the stored landmarks, so crop and
scale differences vanish) in grey, resized to 32 x 32 (area), 2-D DCT-II (orthonormal), the 8 x 8
lowest frequencies; bit = coefficient > median of the 63 non-DC coefficients. Two images of the
same identity are near-duplicates iff the Hamming distance of their 64-bit hashes is
``<= max_hamming``. Images without landmarks (failed detection) get no hash and are never flagged.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
from scipy.fft import dctn

NO_HASH = ""


def phash(chip_rgb: np.ndarray) -> str:
    """64-bit perceptual hash of an aligned face chip, as 16 hex digits."""
    grey = cv2.cvtColor(np.ascontiguousarray(chip_rgb), cv2.COLOR_RGB2GRAY).astype(np.float64)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA)
    low = dctn(small, type=2, norm="ortho")[:8, :8].ravel()
    bits = low > np.median(low[1:])
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def hamming(a: str, b: str) -> int:
    return int(bin(int(a, 16) ^ int(b, 16)).count("1"))


def near_duplicate_pairs(image_ids, identities, hashes, max_hamming: int) -> pd.DataFrame:
    """Unordered same-identity pairs ``(image_a, image_b, hamming)`` within ``max_hamming``.

    Only images of one identity are compared with each other (a loop over identities, all pairs
    inside each; linear in the number of images for bounded photos per identity).
    """
    df = pd.DataFrame({"image_id": list(image_ids), "identity": list(identities), "phash": list(hashes)})
    df = df[df.phash != NO_HASH]
    rows = []
    for _, grp in df.groupby("identity", sort=True):
        if len(grp) < 2:
            continue
        ids = grp.image_id.to_numpy()
        bits = np.array([[int(h, 16) >> k & 1 for k in range(64)] for h in grp.phash], dtype=np.uint8)
        dist = (bits[:, None, :] != bits[None, :, :]).sum(-1)
        i, j = np.triu_indices(len(ids), k=1)
        close = dist[i, j] <= max_hamming
        rows.extend(zip(ids[i[close]], ids[j[close]], dist[i[close], j[close]].tolist()))
    return pd.DataFrame(rows, columns=["image_a", "image_b", "hamming"])


def near_duplicate_map(pairs: pd.DataFrame) -> dict[str, set[str]]:
    """image id -> the set of its near-duplicates (symmetric)."""
    out: dict[str, set[str]] = {}
    for a, b in zip(pairs.image_a, pairs.image_b):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out
