"""Georgia Tech face database (Nefian): 50 subjects, 15 colour images each, 640x480 JPEG.

``gt_db.zip`` unpacks to ``gt_db/s<nn>/<nn>.jpg``. No gender or race labels are published.
"""

from __future__ import annotations

import re
from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, read_images, safe_id
from maskaudit.datasets.download import Archive

HOME = "http://www.anefian.com/research/face_reco.htm"
SUBJECT = re.compile(r"^s(\d+)$")


def _row(rel: Path, inner: Path, issues: list) -> dict | None:
    if not SUBJECT.match(rel.parent.name):
        return None
    return {
        "image_id": safe_id(rel.parent.name, rel.stem),
        "path": rel.as_posix(),
        "identity": rel.parent.name,
    }


def read(root: Path) -> Read:
    return read_images(root, _row, expected="expected gt_db/s<nn>/<nn>.jpg")


ADAPTER = Adapter(
    name="georgia_tech",
    title="Georgia Tech face database",
    homepage=HOME,
    licence="no licence stated on the page; research use",
    licence_url=HOME,
    access="direct",
    archives=(Archive("gt_db.zip", "http://www.anefian.com/research/gt_db.zip"),),
    labels="identity only",
    size="750 images, 50 subjects",
    identities="yes",
    read=read,
)
