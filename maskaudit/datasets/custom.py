"""Datasets the user already has on disk, described by a manifest TSV (builder ``manifest``)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from maskaudit.datasets.manifest import outside_root, read_manifest, write_manifest

log = logging.getLogger(__name__)


def import_manifest(user_manifest: str | Path, manifest_path: str | Path) -> pd.DataFrame:
    """Validate a user's manifest and write it in canonical form; every listed file must exist.

    A listed file that is missing stops the run here, naming it: silently dropping rows would shrink
    the denominators of every rate. Files that exist but cannot be decoded are kept and later become
    failure-to-acquire rows. Paths that leave the manifest's folder (``../``, absolute paths, links
    pointing elsewhere) are kept, and logged as a warning naming them.
    """
    raw = pd.read_csv(user_manifest, sep="\t", dtype=str, keep_default_na=False)
    if "path" in raw.columns:
        outside = outside_root(raw.path.tolist(), Path(user_manifest).parent)
        if outside:
            log.warning(
                "%s: %d path(s) lie outside the manifest's folder %s (the dataset root); check that "
                "they are meant to be part of this dataset:\n  %s",
                user_manifest,
                len(outside),
                Path(user_manifest).parent.resolve(),
                "\n  ".join(outside[:20]),
            )
    df = read_manifest(user_manifest)
    missing = [p for p in df.path if not Path(p).is_file()]
    if missing:
        shown = "\n  ".join(missing[:20])
        raise FileNotFoundError(
            f"{user_manifest}: {len(missing)} listed image(s) do not exist:\n  {shown}"
        )
    write_manifest(df, manifest_path)
    return df
