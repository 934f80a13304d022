"""CelebA (Liu et al., ICCV 2015), aligned JPEGs: identity file plus the ``Male`` attribute.

``img_align_celeba.zip`` unpacks to ``img_align_celeba/000001.jpg``...; ``identity_CelebA.txt``
has lines ``000001.jpg 2880``; ``list_attr_celeba.txt`` has the image count, then the 40 attribute
names, then ``000001.jpg -1 1 ...`` (1 = present, -1 = absent); ``list_eval_partition.txt`` has
``000001.jpg 0`` (0 train, 1 val, 2 test). CelebA has no race labels (race stays unknown).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maskaudit.datasets.adapters.base import (
    Adapter,
    Read,
    find_file,
    frame,
    image_files,
    issue,
    require_dir,
    safe_id,
)
from maskaudit.datasets.download import Archive

HOME = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
SPLITS = {"0": "train", "1": "val", "2": "test"}
SRC = "torchvision.datasets.CelebA file table (md5)"


def _pairs(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


def read_attributes(path: Path) -> pd.DataFrame:
    lines = path.read_text(encoding="utf-8").splitlines()
    names = lines[1].split()
    rows = [ln.split() for ln in lines[2:] if ln.strip()]
    df = pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=names)
    if "Male" not in df.columns:
        raise ValueError(f"{path.name}: no 'Male' attribute among {names[:5]}...")
    return df


def read(root: Path) -> Read:
    images_dir = require_dir(root, "img_align_celeba")
    for name in ("identity_CelebA.txt", "list_attr_celeba.txt"):
        if find_file(root, name) is None:
            raise FileNotFoundError(f"CelebA label file {name} is missing from {root}")
    identity = _pairs(find_file(root, "identity_CelebA.txt"))
    attrs = read_attributes(find_file(root, "list_attr_celeba.txt"))
    part_path = find_file(root, "list_eval_partition.txt")
    partition = _pairs(part_path) if part_path else {}
    rows, issues, seen = [], [], set()
    for rel in image_files(root, images_dir.relative_to(root)):
        name = rel.name
        seen.add(name)
        image_id = safe_id(rel.stem)
        row = {"image_id": image_id, "path": rel.as_posix(), "identity": identity.get(name, "")}
        if not row["identity"]:
            row["identity"] = f"unlabelled_{image_id}"
            issues.append(
                issue("unlabelled_image", image_id, "identity", name, "not in identity_CelebA.txt")
            )
        if name in attrs.index:
            row["gender_original"] = attrs.at[name, "Male"]
        else:
            issues.append(
                issue("unlabelled_image", image_id, "Male", name, "not in list_attr_celeba.txt")
            )
        row["split"] = SPLITS.get(partition.get(name, ""), "")
        rows.append(row)
    for name in sorted(set(identity) - seen):
        issues.append(
            issue(
                "missing_file", safe_id(Path(name).stem), "identity", name, "row without an image"
            )
        )
    return Read(frame(rows), issues)


ADAPTER = Adapter(
    name="celeba",
    title="CelebA (aligned & cropped JPEG)",
    homepage=HOME,
    licence="non-commercial research and educational purposes only (CelebA agreement)",
    licence_url=HOME,
    access="manual",
    how="the CelebA page links Google Drive / Baidu folders (browser needed): get Img/img_align_celeba.zip, "
    "Anno/identity_CelebA.txt, Anno/list_attr_celeba.txt and Eval/list_eval_partition.txt",
    archives=(
        Archive(
            "img_align_celeba.zip",
            HOME,
            checksum="md5:00d2c5bc6d35e252742224ab0c1e8fcb",
            checksum_source=SRC,
        ),
        Archive(
            "identity_CelebA.txt",
            HOME,
            checksum="md5:32bd1bd63d3c78cd57e08160ec5ed1e2",
            checksum_source=SRC,
        ),
        Archive(
            "list_attr_celeba.txt",
            HOME,
            checksum="md5:75e246fa4810816ffd6ee81facbd244c",
            checksum_source=SRC,
        ),
        Archive(
            "list_eval_partition.txt",
            HOME,
            checksum="md5:d32c9cbf5e040fd4025c592c306e6668",
            checksum_source=SRC,
        ),
    ),
    labels="identity; gender from the binary Male attribute (annotated); no race",
    size="202,599 images, 10,177 identities",
    identities="yes",
    read=read,
    gender_map={"1": "male", "-1": "female"},
    race_map={},
)
