"""What every dataset adapter declares, and the helpers adapters share."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from maskaudit.datasets.download import Archive

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Read:
    """An adapter's reading of an extracted dataset.

    ``rows``: one row per image file with ``image_id``, ``path`` (relative to the extracted folder),
    ``identity``, ``gender_original``, ``race_original``, ``age`` (whole years or empty) and any
    dataset-specific columns. ``issues``: dicts with ``kind``, ``image_id``, ``column``, ``value``,
    ``detail`` for every label row without an image, image without a label row, or file name that
    does not parse.
    """

    rows: pd.DataFrame
    issues: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Adapter:
    """One dataset: where it comes from, under what terms, and how its labels are read.

    ``access`` is ``direct`` (the workflow downloads ``archives`` from their official URLs) or
    ``manual`` (licence form, request, login or Google Drive: the user saves each archive under
    ``<manual_dir>/<dataset>/<file>``; ``how`` says how to get it). ``gender_map``/``race_map`` map the
    dataset's own values (``gender_original``/``race_original``) onto the project taxonomy.
    ``premasked`` marks datasets whose faces already wear masks (no synthetic mask on top).
    """

    name: str
    title: str
    homepage: str
    licence: str
    licence_url: str
    access: str
    archives: tuple[Archive, ...]
    labels: str
    size: str
    identities: str
    read: Callable[[Path], Read]
    gender_map: dict = field(default_factory=dict)
    race_map: dict = field(default_factory=dict)
    how: str = ""
    premasked: bool = False
    notes: str = ""

    def __post_init__(self):
        if self.access not in ("direct", "manual"):
            raise ValueError(f"{self.name}: access must be 'direct' or 'manual'")
        if self.access == "manual" and not self.how:
            raise ValueError(f"{self.name}: a manual dataset must say how to obtain it")


def issue(
    kind: str, image_id: str = "", column: str = "", value: str = "", detail: str = ""
) -> dict:
    return {"kind": kind, "image_id": image_id, "column": column, "value": value, "detail": detail}


def safe_id(*parts: str) -> str:
    """An ``image_id`` from path parts: unsafe characters become ``_`` (ids are file names later)."""
    text = "_".join(str(p) for p in parts if str(p) != "")
    return _UNSAFE.sub("_", text).strip("_.")


def image_files(root: Path, under: str | Path = "") -> list[Path]:
    """Every image file below ``root/under``, sorted, as paths relative to ``root``."""
    base = Path(root) / under
    if not base.is_dir():
        return []
    return sorted(
        p.relative_to(root)
        for p in base.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def find_dir(root: Path, name: str, *, max_depth: int = 6) -> Path | None:
    """The shallowest folder called ``name`` under ``root`` (archives nest their top folder differently)."""
    root = Path(root)
    if root.name == name:
        return root
    hits = sorted(
        (p for p in root.rglob(name) if p.is_dir() and len(p.relative_to(root).parts) <= max_depth),
        key=lambda p: (len(p.parts), str(p)),
    )
    return hits[0] if hits else None


def require_dir(root: Path, name: str, label: str = "") -> Path:
    """:func:`find_dir`, raising ``FileNotFoundError`` ("no <label>/ folder under <root>") when absent."""
    found = find_dir(root, name)
    if found is None:
        raise FileNotFoundError(f"no {label or name}/ folder under {root}")
    return found


def read_images(
    root: Path,
    parse: Callable[[Path, Path, list], dict | None],
    *,
    under: Path | None = None,
    expected: str = "",
    value: Callable[[Path], str] = Path.as_posix,
) -> Read:
    """The folder walk of the adapters whose labels sit in folder and file names.

    Every image file below ``under`` (a folder inside ``root``; ``root`` itself when None), in sorted
    order, goes to ``parse(rel, inner, issues)``: ``rel`` is its path relative to ``root``, ``inner``
    relative to ``under``. ``parse`` returns the image's row, or None when the name does not parse: the
    image is then left out with an ``unparsable_name`` issue (``image_id`` from the file stem, the
    ``value(rel)`` and ``expected`` as its detail). ``parse`` may append other issues to ``issues``;
    they keep the walk's order.
    """
    base = Path(under).relative_to(root) if under is not None else Path()
    rows, issues = [], []
    for rel in image_files(root, base):
        row = parse(rel, rel.relative_to(base), issues)
        if row is None:
            issues.append(issue("unparsable_name", safe_id(rel.stem), "path", value(rel), expected))
        else:
            rows.append(row)
    return Read(frame(rows), issues)


def find_file(root: Path, name: str) -> Path | None:
    hits = sorted(
        (p for p in Path(root).rglob(name) if p.is_file()), key=lambda p: (len(p.parts), str(p))
    )
    return hits[0] if hits else None


def frame(rows: list[dict]) -> pd.DataFrame:
    cols = ["image_id", "path", "identity", "gender_original", "race_original", "age"]
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df.columns:
            df[c] = ""
    return df.fillna("")
