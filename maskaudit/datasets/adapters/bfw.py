"""Balanced Faces in the Wild (Robinson et al., CVPRW 2020): 8 race x gender subgroups.

The release holds ``bfw-cropped-aligned/<subgroup>/<identity>/<nnnn_nn>.jpg`` (at some depth, e.g.
``Users/jrobby/bfw/bfw-cropped-aligned``) with subgroups ``asian_females``, ``asian_males``,
``black_females``, ``black_males``, ``indian_females``, ``indian_males``, ``white_females``,
``white_males``, and a data table (``bfw-v0.1.5-datatable.csv``) of verification pairs. Labels come
from the subgroup folder the image sits in.
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, read_images, require_dir, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://github.com/visionjo/facerec-bias-bfw"


def _row(rel: Path, inner: Path, issues: list) -> dict | None:
    if len(inner.parts) != 3:
        return None
    subgroup, ident, _ = inner.parts
    race, _, gender = subgroup.partition("_")
    return {
        "image_id": safe_id(subgroup, ident, rel.stem),
        "path": rel.as_posix(),
        "identity": ident,
        "gender_original": gender,
        "race_original": race,
        "subgroup": subgroup,
    }


def read(root: Path) -> Read:
    return read_images(
        root,
        _row,
        under=require_dir(root, "bfw-cropped-aligned"),
        expected="expected <subgroup>/<identity>/<image>.jpg",
    )


ADAPTER = Adapter(
    name="bfw",
    title="Balanced Faces in the Wild (BFW v0.1.5)",
    homepage=HOME,
    licence="research use under the authors' terms, after the request form (see the repository README)",
    licence_url=HOME,
    access="manual",
    how="fill in the request form linked from the BFW README; the authors send a download link for the "
    "release zip",
    archives=(Archive("BFW-Release.zip", HOME),),
    labels="race (asian/black/indian/white) x gender (females/males) subgroup per identity",
    size="20,000 images, 800 identities, 8 balanced subgroups [unverified]",
    identities="yes (VGGFace2 ids)",
    read=read,
    gender_map={"females": "female", "males": "male"},
    race_map={"asian": "Asian", "black": "Black", "indian": "Indian", "white": "White"},
    notes="the release zip's exact name is not public [unverified]; save what you receive under the name below",
)
