"""Near-duplicate photos: the same picture cropped, rescaled or re-encoded, within and across identities.

Within one identity such a pair would make a "mated" comparison as easy as comparing an image with
itself, so it is flagged in the protocol's image table and kept out of the mated set and the
identification gallery. **Across identities** (the same photo or person under two ids: FairFace and
UTKFace make every image its own identity) it would be a high-scoring "impostor" that inflates FMR
and moves the thresholds, so every dataset is screened across identities with the **same rule and
cut-off** (pixel-based on the aligned faces, so the excluded pairs do not depend on the system under
test) and a flagged pair is left out of the impostors, the thresholds' reference set and the 1:N
candidates (:mod:`maskaudit.protocol.score`).

Signature: the aligned 150 x 150 face chip (dlib alignment from the stored landmarks, so crop, scale
and position differences vanish) in grey, area-resized to 32 x 32, plus the mask of chip pixels that
lie inside the original image (a face cut by the image border leaves part of the chip empty).
Two photos of the same identity are near-duplicates iff, over the pixels valid in both, the overlap
covers at least ``min_overlap`` of the chip and the Pearson correlation of the grey values is at
least ``min_correlation``.

Why not a perceptual hash: on the demo, two crops of one photo whose faces are cut by the image
border differ from the uncut photo by 10 and 22 of 64 pHash bits, while different photos of the same
person differ by 22-28 bits, so no Hamming limit separates them. The masked correlation gives 0.87
and 0.97 for the crops and at most 0.40 for different photos.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

SIZE = 32


def face_signature(chip_rgb: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(grey 32x32 float, valid 32x32 bool)`` of an aligned chip and its in-image pixel mask."""
    grey = cv2.cvtColor(np.ascontiguousarray(chip_rgb), cv2.COLOR_RGB2GRAY).astype(np.float64)
    small = cv2.resize(grey, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    inside = (
        cv2.resize(np.asarray(valid, np.float64), (SIZE, SIZE), interpolation=cv2.INTER_AREA) > 0.99
    )
    return small, inside


def similarity(a: tuple, b: tuple) -> tuple[float, float]:
    """``(correlation over the common valid pixels, overlap share)``; correlation NaN if flat."""
    m = a[1] & b[1]
    overlap = float(m.mean())
    if m.sum() < 3:
        return float("nan"), overlap
    x, y = a[0][m] - a[0][m].mean(), b[0][m] - b[0][m].mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return (float((x * y).sum() / den) if den > 0 else float("nan")), overlap


def near_duplicate_pairs(
    image_ids, identities, signatures: dict, *, min_correlation: float, min_overlap: float
) -> pd.DataFrame:
    """Unordered same-identity pairs ``(image_a, image_b, correlation, overlap)`` that are near-duplicates.

    Only photos of one identity are compared (a loop over identities, all pairs inside each).
    Images without a signature (failed detection) are never flagged.
    """
    df = pd.DataFrame({"image_id": list(image_ids), "identity": list(identities)})
    df = df[df.image_id.isin(list(signatures))]
    rows = []
    for _, grp in df.groupby("identity", sort=True):
        ids = grp.image_id.tolist()
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                corr, overlap = similarity(signatures[ids[i]], signatures[ids[j]])
                if overlap >= min_overlap and corr >= min_correlation:
                    rows.append((ids[i], ids[j], corr, overlap))
    return pd.DataFrame(rows, columns=["image_a", "image_b", "correlation", "overlap"])


def _stack(ids, signatures):
    """``(X, M)``: grey values centred on 128 and zeroed outside the valid pixels, and the masks (N, 1024)."""
    m = np.stack([np.asarray(signatures[i][1], bool).ravel() for i in ids]).astype(np.float64)
    x = np.stack([np.asarray(signatures[i][0], np.float64).ravel() for i in ids]) - 128.0
    return x * m, m


def masked_correlations(xa, ma, xb, mb) -> tuple[np.ndarray, np.ndarray]:
    """``(correlation, overlap)`` of every row of ``a`` with every row of ``b`` over their common valid
    pixels: :func:`similarity` as matrix products (``n = Ma Mb'``, sums and cross-products over the
    common pixels, then Pearson's formula). NaN where fewer than 3 common pixels or a side is flat."""
    n = ma @ mb.T
    sx, sy = xa @ mb.T, ma @ xb.T
    sxx, syy = (xa * xa) @ mb.T, ma @ (xb * xb).T
    sxy = xa @ xb.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        den = np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
        corr = np.where((n >= 3) & (den > 0), cov / den, np.nan)
    return corr, n / ma.shape[1]


def duplicate_pairs_across(
    image_ids,
    identities,
    signatures: dict,
    *,
    min_correlation: float,
    min_overlap: float,
    block: int = 512,
) -> pd.DataFrame:
    """Unordered pairs of images of **different** identities that are near-duplicates by the same rule
    as :func:`near_duplicate_pairs`: ``(image_a, image_b, correlation, overlap)``, ``image_a`` first in
    ``image_ids`` order. All pairs are compared, ``block`` rows of matrix products at a time
    (``O(N^2)`` pixel correlations: 3,000 images took 9 s, 500,000 pairs/s, +155 MB on one shared core,
    so 10,000 take about 100 s; ``benchmarks/bench_duplicates.py``). Images without a signature
    (failed detection) are never flagged."""
    df = pd.DataFrame({"image_id": list(image_ids), "identity": [str(x) for x in identities]})
    df = df[df.image_id.isin(list(signatures))].reset_index(drop=True)
    ids, ident = df.image_id.to_numpy(), df.identity.to_numpy()
    columns = ["image_a", "image_b", "correlation", "overlap"]
    if len(ids) < 2:
        return pd.DataFrame(columns=columns)
    x, m = _stack(ids, signatures)
    rows = []
    for r0 in range(0, len(ids), max(1, block)):
        r1 = min(r0 + block, len(ids))
        corr, overlap = masked_correlations(x[r0:r1], m[r0:r1], x[r0:], m[r0:])
        i, j = np.nonzero((overlap >= min_overlap) & (corr >= min_correlation))
        i, j = i + r0, j + r0
        keep = (j > i) & (ident[i] != ident[j])
        for a, b in zip(i[keep].tolist(), j[keep].tolist()):
            rows.append(
                (ids[a], ids[b], float(corr[a - r0, b - r0]), float(overlap[a - r0, b - r0]))
            )
    return pd.DataFrame(rows, columns=columns)


def near_duplicate_map(pairs: pd.DataFrame) -> dict[str, set[str]]:
    """image id -> the set of its near-duplicates (symmetric)."""
    out: dict[str, set[str]] = {}
    for a, b in zip(pairs.image_a, pairs.image_b):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out
