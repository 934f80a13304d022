"""Real face photos read at test time from the face-recognition sdist (fetched by name with pip, never committed)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from conftest import REPO
from PIL import Image

from maskaudit.fetch import download_distribution, read_member

MEMBER = "face_recognition-1.3.0/tests/test_images/{}.jpg"


def face_recognition_sdist(tmp: Path) -> Path:
    cached = REPO / "resources/downloads/demo/face_recognition-1.3.0.tar.gz"
    return (
        cached
        if cached.is_file()
        else download_distribution("face-recognition==1.3.0", tmp, "sdist")
    )


def load_faces(tmp: Path, names=("obama", "obama2", "obama3", "biden")) -> dict[str, np.ndarray]:
    archive = face_recognition_sdist(tmp)
    return {
        n: np.asarray(Image.open(io.BytesIO(read_member(archive, MEMBER.format(n)))).convert("RGB"))
        for n in names
    }
