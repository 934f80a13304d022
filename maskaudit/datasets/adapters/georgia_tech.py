"""Georgia Tech face database (Nefian): 50 subjects, 15 colour images each, 640x480 JPEG.

``gt_db.zip`` unpacks to ``gt_db/s<nn>/<nn>.jpg``. No gender or race labels are published.
"""

from __future__ import annotations

import re
from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, frame, image_files, issue, safe_id
from maskaudit.datasets.download import Archive

HOME = "http://www.anefian.com/research/face_reco.htm"
SUBJECT = re.compile(r"^s(\d+)$")


def read(root: Path) -> Read:
    rows, issues = [], []
    for rel in image_files(root):
        m = SUBJECT.match(rel.parent.name)
        if not m:
            issues.append(issue("unparsable_name", safe_id(rel.stem), "path", rel.as_posix(),
                                "expected gt_db/s<nn>/<nn>.jpg"))
            continue
        rows.append({"image_id": safe_id(rel.parent.name, rel.stem), "path": rel.as_posix(),
                     "identity": rel.parent.name})
    return Read(frame(rows), issues)


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
