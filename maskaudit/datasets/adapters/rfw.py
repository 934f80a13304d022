"""Racial Faces in-the-Wild (Wang et al., ICCV 2019), test set: four race groups, no gender.

``test.tar.gz`` unpacks to ``test/data/<group>/<identity>/<identity>_<nnnn>.jpg`` with groups
``African``, ``Asian``, ``Caucasian``, ``Indian`` plus ``test/txts/<group>/`` (pairs, people, 5-point
landmarks). RFW gives no gender, so gender stays unknown; RFW is balanced over race only.
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, find_dir, read_images, safe_id
from maskaudit.datasets.download import Archive

HOME = "http://www.whdeng.cn/RFW/index.html"
GROUPS = ("African", "Asian", "Caucasian", "Indian")


def read(root: Path) -> Read:
    test = find_dir(root, "test")
    data = (
        (test / "data") if test is not None and (test / "data").is_dir() else find_dir(root, "data")
    )
    if data is None:
        raise FileNotFoundError(f"no test/data/ folder under {root}")
    return read_images(root, _row, under=data, expected="expected <group>/<identity>/<image>.jpg")


def _row(rel: Path, inner: Path, issues: list) -> dict | None:
    if len(inner.parts) != 3:
        return None
    group, ident, _ = inner.parts
    return {
        "image_id": safe_id(group, rel.stem),
        "path": rel.as_posix(),
        "identity": ident,
        "race_original": group,
    }


ADAPTER = Adapter(
    name="rfw",
    title="Racial Faces in-the-Wild (RFW), test set",
    homepage=HOME,
    licence="non-commercial research only, under the RFW agreement (request by e-mail)",
    licence_url=HOME,
    access="manual",
    how="send the signed agreement as described on the RFW page; the authors reply with a download link",
    archives=(Archive("test.tar.gz", HOME),),
    labels="race group (African/Asian/Caucasian/Indian) per identity; no gender",
    size="about 40,600 images, about 11,400 identities (about 10,000 per group) [third-party count]",
    identities="yes (Freebase MIDs)",
    read=read,
    race_map={"African": "Black", "Asian": "Asian", "Caucasian": "White", "Indian": "Indian"},
    notes="a third-party audit reports test.tar.gz at 1,349,393,437 bytes; not pinned (not seen here)",
)
