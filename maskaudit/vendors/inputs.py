"""The tables one vendor job reads: probes (the variant's images) and gallery (the unmasked images)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_statuses
from maskaudit.masking import read_variant_manifest

COLUMNS = ["image_id", "path", "status"]


def input_paths(results: str | Path, dataset: str, variant: str) -> dict[str, Path]:
    results = Path(results)
    paths = {"manifest": results / f"datasets/{dataset}/manifest.tsv",
             "landmarks": results / f"faces/{dataset}/landmarks.npz"}
    if variant != "none":
        paths["images"] = results / f"masked/{dataset}/{variant}/manifest.tsv"
    return paths


def load_tables(manifest, landmarks, images=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(probes, gallery)``; ``images`` is the variant manifest (``None`` for variant ``none``).

    The gallery keeps ``identity`` for choosing pairs (:func:`maskaudit.vendors.pairs.vendor_pairs`)."""
    gallery = read_manifest(manifest)
    gallery["status"] = gallery.image_id.map(load_statuses(landmarks))
    probes = gallery if images is None else read_variant_manifest(images)
    return probes[COLUMNS], gallery[COLUMNS + ["identity"]]
