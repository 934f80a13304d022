"""MLFW, Masked LFW (Wang, Fang, Zhong & Deng, 2021): LFW faces that already wear masks.

``MLFW.zip`` unpacks to ``MLFW/aligned/<Name>_<nnnn>_<k>.jpg`` (112x112, aligned; ``<Name>_<nnnn>``
is the LFW image and ``<k>`` the masked copy) plus ``MLFW/pairs.txt``. The masks were drawn onto
LFW photos by the MLFW authors' own mask-generation tool, so MLFW is *not* masked again: the
adapter marks it ``premasked``, and the config refuses mask variants for it.

Use: MLFW's masks come from an independent renderer with textures and fitting of its own. The same
models scored on (a) LFW with this project's masks and (b) MLFW, over the same identities
(``lfw_image`` links each MLFW image to its LFW original), show whether a result depends on our
renderer. It is a synthetic-vs-synthetic check between two renderers, not a check against photos
of real masks (MFR2 or RMFD would be needed for that).
"""

from __future__ import annotations

import re
from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, read_images, require_dir, safe_id
from maskaudit.datasets.download import Archive

HOME = "http://whdeng.cn/mlfw/"
NAME = re.compile(r"^(.+?)_(\d{4})(?:_(\d+))?\.(?:jpg|png)$", re.I)


def _row(rel: Path, inner: Path, issues: list) -> dict | None:
    m = NAME.match(rel.name)
    if not m:
        return None
    name, number, copy = m.groups()
    return {
        "image_id": safe_id(rel.stem),
        "path": rel.as_posix(),
        "identity": name,
        "lfw_image": f"{name}_{number}",
        "mask_copy": copy or "",
        "premasked": "yes",
    }


def read(root: Path) -> Read:
    return read_images(
        root,
        _row,
        under=require_dir(root, "aligned", "MLFW aligned"),
        expected="expected <LFW name>_<nnnn>_<k>.jpg",
        value=lambda rel: rel.name,
    )


ADAPTER = Adapter(
    name="mlfw",
    title="MLFW (Masked LFW)",
    homepage=HOME,
    licence="non-commercial research only (MLFW page; LFW terms apply to the source photos)",
    licence_url=HOME,
    access="manual",
    how="follow the download instructions on the MLFW page (Baidu / Google Drive links, browser needed)",
    archives=(Archive("MLFW.zip", HOME),),
    labels="identity (LFW name), LFW source image, masked copy number; no gender/race",
    size="about 6,000 masked images [unverified]",
    identities="yes",
    read=read,
    premasked=True,
    notes="already masked by a third-party renderer: no synthetic mask on top (premasked)",
)
