"""UTKFace (Zhang, Song & Qi, CVPR 2017), aligned and cropped: labels encoded in the file name.

``UTKFace.tar.gz`` unpacks to ``UTKFace/[age]_[gender]_[race]_[date&time].jpg.chip.jpg`` with
gender 0 = male, 1 = female and race 0-4 = White, Black, Asian, Indian, Others. A few published
names lack a field (e.g. ``39_1_20170116174525125.jpg.chip.jpg``); which field is missing cannot be
told, so such images keep all labels ``unknown`` and are listed as ``unparsable_name``.
"""

from __future__ import annotations

import re
from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, issue, read_images, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://susanqq.github.io/UTKFace/"
NAME = re.compile(r"^(\d{1,3})_(\d+)_(\d+)_(\d{17})\.jpg(?:\.chip\.jpg)?$")


def _row(rel: Path, inner: Path, issues: list) -> dict:
    """Every image stays (as its own identity); a name that does not parse keeps its labels unknown."""
    image_id = safe_id(rel.name.split(".")[0])
    m = NAME.match(rel.name)
    row = {"image_id": image_id, "path": rel.as_posix(), "identity": image_id}
    if m:
        row.update(
            age=str(int(m.group(1))),
            gender_original=m.group(2),
            race_original=m.group(3),
            captured=m.group(4),
        )
    else:
        issues.append(
            issue(
                "unparsable_name",
                image_id,
                "path",
                rel.name,
                "expected [age]_[gender]_[race]_[yyyymmddHHMMSSFFF].jpg.chip.jpg",
            )
        )
    return row


def read(root: Path) -> Read:
    return read_images(root, _row)


ADAPTER = Adapter(
    name="utkface",
    title="UTKFace (aligned & cropped)",
    homepage=HOME,
    licence="non-commercial research purposes only",
    licence_url=HOME,
    access="manual",
    how="the UTKFace page links UTKFace.tar.gz ('Aligned&Cropped Faces') on Google Drive, which needs a browser",
    archives=(Archive("UTKFace.tar.gz", HOME),),
    labels="age (years), gender (0/1), race (0-4) in the file name; annotated by the authors",
    size="23,708 images, 200x200",
    identities="none (each image is its own identity)",
    read=read,
    gender_map={"0": "male", "1": "female"},
    race_map={"0": "White", "1": "Black", "2": "Asian", "3": "Indian", "4": "Other"},
)
