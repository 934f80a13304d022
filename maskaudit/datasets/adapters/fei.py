"""FEI Face Database (Thomaz & Giraldi, 2010): 200 Brazilian subjects, two published image sets.

- ``frontal``: ``frontalimages_manuallyaligned_part{1,2}.zip`` hold ``<n>a.jpg`` (neutral) and
  ``<n>b.jpg`` (smiling), manually aligned frontal images.
- ``original``: ``originalimages_part{1..4}.zip`` hold ``<n>-<nn>.jpg``, 14 images per subject,
  640x480, a profile-to-profile rotation of about 180 degrees plus expression/lighting shots.

No per-image gender or race file is published with the archives, so both stay unknown.
"""

from __future__ import annotations

import re
from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, read_images, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://fei.edu.br/~cet/facedatabase.html"
BASE = "https://fei.edu.br/~cet/"
FRONTAL = re.compile(r"^(\d+)([ab])\.jpg$", re.I)
ORIGINAL = re.compile(r"^(\d+)-(\d+)\.jpg$", re.I)
LICENCE = "free for research purposes; see the FEI page"


def _reader(pattern, extra):
    def row(rel: Path, inner: Path, issues: list) -> dict | None:
        m = pattern.match(rel.name)
        if not m:
            return None
        subject, shot = m.groups()
        return {
            "image_id": safe_id(f"fei_{rel.stem}"),
            "path": rel.as_posix(),
            "identity": f"fei_{int(subject):03d}",
            extra: shot.lower(),
        }

    def read(root: Path) -> Read:
        return read_images(root, row, expected=f"expected a name matching {pattern.pattern}")

    return read


FRONTAL_ADAPTER = Adapter(
    name="fei_frontal",
    title="FEI Face Database, frontal manually aligned",
    homepage=HOME,
    licence=LICENCE,
    licence_url=HOME,
    access="direct",
    archives=tuple(
        Archive(
            f"frontalimages_manuallyaligned_part{i}.zip",
            f"{BASE}frontalimages_manuallyaligned_part{i}.zip",
        )
        for i in (1, 2)
    ),
    labels="identity (subject number); expression a = neutral, b = smiling; no gender/race file",
    size="400 images, 200 subjects",
    identities="yes",
    read=_reader(FRONTAL, "expression"),
)

ORIGINAL_ADAPTER = Adapter(
    name="fei_original",
    title="FEI Face Database, original images",
    homepage=HOME,
    licence=LICENCE,
    licence_url=HOME,
    access="direct",
    archives=tuple(
        Archive(f"originalimages_part{i}.zip", f"{BASE}originalimages_part{i}.zip")
        for i in (1, 2, 3, 4)
    ),
    labels="identity (subject number); shot number 01-14; no gender/race file",
    size="2,800 images, 200 subjects, 640x480",
    identities="yes",
    read=_reader(ORIGINAL, "shot"),
)
