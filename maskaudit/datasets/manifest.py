"""The dataset manifest contract shared by every dataset (demo or real).

One row per image. Required columns: ``image_id`` (unique, path-safe), ``path`` (relative to the
manifest's folder, or absolute), ``identity``, ``gender``, ``race``. Optional: ``age`` (integer years,
empty when unknown), ``source`` and ``licence`` (provenance notes), ``split`` (the dataset's own
partition, e.g. train/val). Missing demographic labels are written as ``unknown`` so they form a
visible group instead of vanishing from per-group tables.

Any further column is a dataset-specific label kept under its own lowercase ``snake_case`` name
(e.g. ``gender_original``, ``race_original``, ``age_bin``, ``luminance_median``); extra columns
follow the contract columns in the order given.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS = ("image_id", "path", "identity", "gender", "race")
OPTIONAL_COLUMNS = ("age", "source", "licence", "split")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# Demographic attributes that per-group tables break results down by, and their combination.
GROUP_ATTRIBUTES = ("gender", "race")
UNKNOWN = "unknown"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EXTRA = re.compile(r"^[a-z][a-z0-9_]*$")


log = logging.getLogger(__name__)


class ManifestError(ValueError):
    """A manifest breaks the contract; the message lists every problem with its row."""


def validate_manifest(df: pd.DataFrame, *, where: str = "manifest") -> pd.DataFrame:
    """Return ``df`` in canonical form (all columns, string dtype, ``unknown`` labels) or raise."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ManifestError(
            f"{where}: missing required column(s) {missing}; expected {list(REQUIRED_COLUMNS)}"
        )
    extra = [c for c in df.columns if c not in COLUMNS]
    badly_named = [c for c in extra if not _EXTRA.match(str(c))]
    if badly_named:
        raise ManifestError(
            f"{where}: column name(s) {badly_named} must be lowercase snake_case "
            f"(dataset-specific columns keep their own {_EXTRA.pattern} names)"
        )
    df = df.copy()
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.loc[:, list(COLUMNS) + extra].fillna("").astype(str)
    for col in ("gender", "race"):
        df[col] = df[col].str.strip().replace("", UNKNOWN)
    problems = []
    for i, row in df.iterrows():
        line = f"row {i + 2}"  # +1 header, +1 one-based
        if not _ID.match(row.image_id):
            problems.append(f"{line}: image_id '{row.image_id}' must match {_ID.pattern}")
        if not row.path.strip():
            problems.append(f"{line}: empty path")
        if not row.identity.strip():
            problems.append(f"{line}: empty identity")
        if row.age.strip() and not row.age.strip().isdigit():
            problems.append(f"{line}: age '{row.age}' must be whole years or empty")
    dups = df.image_id[df.image_id.duplicated()].unique().tolist()
    if dups:
        problems.append(f"duplicate image_id(s): {dups}")
    if problems:
        raise ManifestError(f"{where}:\n  " + "\n  ".join(problems))
    return df.reset_index(drop=True)


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read and validate a manifest; ``path`` values are resolved against the manifest's folder."""
    path = Path(path)
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    df = validate_manifest(df, where=str(path))
    df["path"] = resolve_paths(df.path, path.parent)
    return df


def label_conflicts(df: pd.DataFrame) -> list[str]:
    """One line per identity whose images disagree on ``gender`` or ``race``: per-group tables use the
    labels of its first image (maskaudit.stats.groups), so the disagreement is reported, never resolved
    silently."""
    out = []
    for col in GROUP_ATTRIBUTES:
        if col not in df.columns:
            continue
        distinct = df.groupby("identity", sort=True)[col].agg(lambda v: list(dict.fromkeys(v)))
        for identity, values in distinct.items():
            if len(values) > 1:
                out.append(
                    f"identity '{identity}' has {col} labels {values}; its first image's '{values[0]}' is used"
                )
    return out


def outside_root(paths, root: str | Path) -> list[str]:
    """The entries of ``paths`` that resolve outside the folder ``root`` (``../``, absolute paths, links)."""
    base = Path(root).resolve()
    return [
        p for p in paths if p and not Path(os.path.realpath(Path(root) / p)).is_relative_to(base)
    ]


def warn_conflicts(df: pd.DataFrame, where: str) -> list[str]:
    lines = label_conflicts(df)
    if lines:
        log.warning(
            "%s: %d identities have labels that disagree between their images (fix the labels, or "
            "accept that the first image's are used):\n  %s",
            where,
            len(lines),
            "\n  ".join(lines[:20])
            + (f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else ""),
        )
    return lines


def write_manifest(df: pd.DataFrame, path: str | Path) -> None:
    """Write a validated manifest with ``path`` values relative to the manifest's folder; identities
    whose labels disagree are logged as a warning (:func:`label_conflicts`)."""
    path = Path(path)
    df = validate_manifest(df, where=str(path))
    warn_conflicts(df, str(path))
    df["path"] = relative_paths(df.path, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, sep="\t", index=False, lineterminator="\n")


def relative_paths(paths, folder: str | Path) -> list[str]:
    """``paths`` as written into a table in ``folder``: relative to it where possible; empty stays empty.

    Files inside the working directory (``results/``, ``resources/``) are written relative to
    ``folder`` even when they lie beside it (``../../../resources/...``), so tables are the same on
    every machine; files elsewhere keep their absolute path.
    """
    base = Path(folder).resolve()
    cwd = Path.cwd().resolve()

    def rel(p: str) -> str:
        target = Path(p).resolve()
        if target.is_relative_to(base):
            return str(target.relative_to(base))
        if target.is_relative_to(cwd) and base.is_relative_to(cwd):
            return os.path.relpath(target, base)
        return str(target)

    return [rel(p) if p else "" for p in paths]


def resolve_paths(paths, folder: str | Path) -> list[str]:
    """Inverse of :func:`relative_paths`: relative entries are read from ``folder``; empty stays empty."""
    return [str(Path(folder) / p) if p else "" for p in paths]
