"""Specs on Faces (Afifi & Abdelhamed, 2019), original images: labels encoded in the file name.

Names look like ``AbdA_00005_m_31_i_fr_nc_hp_2016_2_e0_nl_o.jpg``: subject id, image number,
gender (``m``/``f``), age, lighting (``i`` indoor / ``o`` outdoor), view (``fr`` frontal / ``nf``
near-frontal), cropping (``nc``/``cr``), emotion (``hp``, ``sd``, ``sr``, ``no``), year, part, then
filter and difficulty codes. SoF gives no race.
"""

from __future__ import annotations

import re
from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, read_images, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://sites.google.com/view/sof-dataset"
NAME = re.compile(
    r"^([A-Za-z]+)_(\d+)_([mf])_(\d+)_([io])_([a-z]+)_([a-z]+)_([a-z]+)_(\d{4})_(\d+)_(.+)\.jpg$"
)


def _row(rel: Path, inner: Path, issues: list) -> dict | None:
    m = NAME.match(rel.name)
    if not m:
        return None
    subject, _, gender, age, light, view, crop, emotion, year, part, _ = m.groups()
    return {
        "image_id": safe_id(rel.stem),
        "path": rel.as_posix(),
        "identity": subject,
        "gender_original": gender,
        "age": str(int(age)),
        "lighting": light,
        "view": view,
        "cropping": crop,
        "emotion": emotion,
        "year": year,
        "part": part,
    }


def read(root: Path) -> Read:
    return read_images(
        root,
        _row,
        value=lambda rel: rel.name,
        expected="expected <id>_<nnnnn>_<m|f>_<age>_<i|o>_<view>_<crop>_<emotion>_<year>_<part>_...",
    )


ADAPTER = Adapter(
    name="sof",
    title="Specs on Faces (SoF), original images",
    homepage=HOME,
    licence="free for reasonable academic fair use (SoF page)",
    licence_url=HOME,
    access="manual",
    how="the SoF page links the 'original images' archive on Google Drive (browser needed)",
    archives=(Archive("original images.zip", HOME, key="original_images.zip"),),
    labels="identity, gender (m/f) and age in the file name; lighting, view, emotion",
    size="2,662 original images, 112 subjects (66 male, 46 female)",
    identities="yes",
    read=read,
    gender_map={"m": "male", "f": "female"},
    notes="the archive's file name on Google Drive is not verified here; save it under the name below",
)
