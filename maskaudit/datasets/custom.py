"""Datasets the user already has on disk, described by a manifest TSV (builder ``manifest``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maskaudit.datasets.manifest import read_manifest, write_manifest


def import_manifest(user_manifest: str | Path, manifest_path: str | Path) -> pd.DataFrame:
    """Validate a user's manifest and write it in canonical form; every listed file must exist.

    A listed file that is missing stops the run here, naming it: silently dropping rows would shrink
    the denominators of every rate. Files that exist but cannot be decoded are kept and later become
    failure-to-acquire rows.
    """
    df = read_manifest(user_manifest)
    missing = [p for p in df.path if not Path(p).is_file()]
    if missing:
        shown = "\n  ".join(missing[:20])
        raise FileNotFoundError(f"{user_manifest}: {len(missing)} listed image(s) do not exist:\n  {shown}")
    write_manifest(df, manifest_path)
    return df
