"""YouTube Faces DB (Wolf, Hassner & Maoz, CVPR 2011): video frames of 1,595 people.

``YouTubeFaces.tar.gz`` unpacks to ``YouTubeFaces/frame_images_DB/<Name>/<video>/<video>.<frame>.jpg``
(with ``<Name>.labeled_faces.txt`` beside each person's folder). No gender or race labels. Frames of
one video are near-duplicates: cap images per identity when sampling (``max_images_per_identity``).
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, find_dir, frame, image_files, issue, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://www.cs.tau.ac.il/~wolf/ytfaces/"


def read(root: Path) -> Read:
    frames = find_dir(root, "frame_images_DB")
    if frames is None:
        raise FileNotFoundError(f"no frame_images_DB/ folder under {root}")
    rows, issues = [], []
    for rel in image_files(root, frames.relative_to(root)):
        inner = rel.relative_to(frames.relative_to(root))
        if len(inner.parts) != 3:
            issues.append(issue("unparsable_name", safe_id(rel.stem), "path", rel.as_posix(),
                                "expected <Name>/<video>/<video>.<frame>.jpg"))
            continue
        name, video, _ = inner.parts
        rows.append({"image_id": safe_id(name, rel.stem), "path": rel.as_posix(), "identity": name, "video": video})
    return Read(frame(rows), issues)


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
