"""YouTube Faces DB (Wolf, Hassner & Maoz, CVPR 2011): video frames of 1,595 people.

``YouTubeFaces.tar.gz`` unpacks to ``YouTubeFaces/frame_images_DB/<Name>/<video>/<video>.<frame>.jpg``
(with ``<Name>.labeled_faces.txt`` beside each person's folder). No gender or race labels. Frames of
one video are near-duplicates: cap images per identity when sampling (``max_images_per_identity``).
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, read_images, require_dir, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://www.cs.tau.ac.il/~wolf/ytfaces/"


def _row(rel: Path, inner: Path, issues: list) -> dict | None:
    if len(inner.parts) != 3:
        return None
    name, video, _ = inner.parts
    return {
        "image_id": safe_id(name, rel.stem),
        "path": rel.as_posix(),
        "identity": name,
        "video": video,
    }


def read(root: Path) -> Read:
    return read_images(
        root,
        _row,
        under=require_dir(root, "frame_images_DB"),
        expected="expected <Name>/<video>/<video>.<frame>.jpg",
    )


ADAPTER = Adapter(
    name="youtube_faces",
    title="YouTube Faces DB, frame images",
    homepage=HOME,
    licence="research use; access after the form on the YTF page (username and password by e-mail)",
    licence_url=HOME,
    access="manual",
    how="fill in the form on the YTF page; log in with the credentials you receive and download "
    "frame_images_DB -> YouTubeFaces.tar.gz",
    archives=(Archive("YouTubeFaces.tar.gz", HOME),),
    labels="identity (person name), video number; no gender/race",
    size="3,425 videos of 1,595 people; about 621,000 frames",
    identities="yes",
    read=read,
)
