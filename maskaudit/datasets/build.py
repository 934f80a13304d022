"""From an extracted dataset to its full manifest, issues sidecar and validation report.

The adapter reads the files; this module maps labels onto the taxonomy (originals kept), adds
provenance, checks every image can be decoded, validates the schema and writes three files:

- ``full.tsv``: every image, in the manifest contract plus dataset-specific columns;
- ``issues.tsv``: one row per problem (``kind``, ``image_id``, ``column``, ``value``, ``detail``):
  ``unknown_label_code``, ``unparsable_name``, ``unreadable``, ``missing_file`` (a label row with no
  image: not in the manifest), ``unlabelled_image`` (an image with no label row: kept, labels unknown);
- ``validation.json``: sizes, identities, per-column coverage, label counts, issue counts.

Unreadable images stay in the manifest: detection turns them into counted ``unreadable``
failure-to-acquire rows, so no denominator shrinks silently.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from PIL import Image

from maskaudit.datasets.adapters import Adapter
from maskaudit.datasets.adapters.base import issue
from maskaudit.datasets.manifest import COLUMNS, write_manifest
from maskaudit.datasets.taxonomy import GENDERS, RACES, map_labels
from maskaudit.datasets.validate import check_schema, summary
from maskaudit.progress import progress
from maskaudit.tsv import write_tsv

log = logging.getLogger(__name__)
ISSUE_COLUMNS = ["kind", "image_id", "column", "value", "detail"]


def readable(path: Path) -> str:
    """Empty if ``path`` decodes as an image, else the decoder's complaint."""
    try:
        with Image.open(path) as im:
            im.verify()
        return ""
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the answer
        return f"{type(exc).__name__}: {exc}"


def build_manifest(adapter: Adapter, root: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(manifest, issues)`` for the dataset extracted under ``root``."""
    root = Path(root)
    got = adapter.read(root)
    df, issues = got.rows.copy(), list(got.issues)
    for col in ("gender_original", "race_original", "age", "split"):
        if col not in df.columns:
            df[col] = ""
    df["gender"], bad_g = map_labels(df.gender_original, adapter.gender_map, GENDERS)
    df["race"], bad_r = map_labels(df.race_original, adapter.race_map, RACES)
    for col, bad in (("gender_original", bad_g), ("race_original", bad_r)):
        for i in df.index[bad]:
            issues.append(
                issue(
                    "unknown_label_code",
                    df.at[i, "image_id"],
                    col,
                    df.at[i, col],
                    f"not in the {adapter.name} {col.split('_')[0]} mapping; labelled unknown",
                )
            )
    df["source"] = f"{adapter.title}: " + df.path.astype(str)
    df["licence"] = adapter.licence
    for i in progress(list(df.index), desc=f"{adapter.name}: decoding check", unit="img"):
        why = readable(root / df.at[i, "path"])
        if why:
            issues.append(issue("unreadable", df.at[i, "image_id"], "path", df.at[i, "path"], why))
    df["path"] = [str(root / p) for p in df.path]
    extra = [
        c for c in df.columns if c not in COLUMNS and c not in ("gender_original", "race_original")
    ]
    df = df[list(COLUMNS) + ["gender_original", "race_original"] + sorted(extra)]
    df = df.sort_values("image_id", kind="stable").reset_index(drop=True)
    issues_df = pd.DataFrame(issues, columns=ISSUE_COLUMNS).sort_values(
        ["kind", "image_id", "column"], kind="stable"
    )
    return df, issues_df.reset_index(drop=True)


def write_outputs(
    adapter: Adapter,
    root: str | Path,
    manifest_path: str | Path,
    issues_path: str | Path,
    report_path: str | Path,
) -> dict:
    df, issues = build_manifest(adapter, root)
    if df.image_id.duplicated().any():
        dups = sorted(df.image_id[df.image_id.duplicated()].unique())[:10]
        raise ValueError(f"{adapter.name}: the adapter produced duplicate image ids {dups}")
    check_schema(df, where=f"{adapter.name} manifest")
    write_manifest(df, manifest_path)
    write_tsv(issues, issues_path)
    report = {
        "adapter": adapter.name,
        "title": adapter.title,
        "licence": adapter.licence,
        "premasked": adapter.premasked,
        **summary(df, issues),
    }
    Path(report_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log.info(
        "%s: %d images, %d identities, issues %s",
        adapter.name,
        report["n_images"],
        report["n_identities"],
        report["issues"],
    )
    return report
