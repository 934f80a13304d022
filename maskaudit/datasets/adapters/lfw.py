"""LFW, deep-funnelled images (Huang et al.), with the public LFW attribute file (Kumar et al.).

``lfw-deepfunneled.tgz`` unpacks to ``lfw-deepfunneled/<Name>/<Name>_<nnnn>.jpg``.
``lfw_attributes.txt`` (PubFig project, Columbia) is tab-separated: a comment line, then a header
line ``#\tperson\timagenum\tMale\tAsian\tWhite\tBlack\t...`` (73 attributes incl. ``Indian``), then
one row per image with the person's name (spaces) and image number. Values are the outputs of
Kumar et al.'s attribute classifiers: positive = attribute present.

Labels derived (documented rule, no other guess): gender = male if ``Male`` > 0, female if < 0;
race = the one of Asian/White/Black/Indian with the largest positive score, unknown if none is
positive. The four race scores and the Male score are kept as columns. Images the attribute file
does not list stay unknown (counted as ``unlabelled_image``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maskaudit.datasets.adapters.base import (
    Adapter,
    Read,
    find_file,
    frame,
    image_files,
    issue,
    require_dir,
    safe_id,
)
from maskaudit.datasets.download import Archive

HOME = "http://vis-www.cs.umass.edu/lfw/"
ATTRIBUTES_URL = "http://www.cs.columbia.edu/CAVE/databases/pubfig/download/lfw_attributes.txt"
RACE_ATTRIBUTES = ("Asian", "White", "Black", "Indian")


def read_attributes(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8") as fh:
        fh.readline()  # "# LFW attributes file ..." comment
        header = fh.readline().lstrip("#").strip("\n").split("\t")
        header = [h.strip() for h in header if h.strip()]
        df = pd.read_csv(fh, sep="\t", names=header, dtype=str, keep_default_na=False)
    need = {"person", "imagenum", "Male", *RACE_ATTRIBUTES}
    if need - set(df.columns):
        raise ValueError(
            f"{path.name}: missing attribute column(s) {sorted(need - set(df.columns))}"
        )
    df["key"] = (
        df.person.str.strip().str.replace(" ", "_")
        + "_"
        + df.imagenum.astype(int).map("{:04d}".format)
    )
    return df.drop_duplicates("key").set_index("key")  # one row per image; the file has none twice


def read(root: Path) -> Read:
    images_dir = require_dir(root, "lfw-deepfunneled")
    attr_path = find_file(root, "lfw_attributes.txt")
    attrs = read_attributes(attr_path) if attr_path else pd.DataFrame()
    rows, issues = [], []
    for rel in image_files(root, images_dir.relative_to(root)):
        stem = rel.stem
        image_id = safe_id(stem)
        row = {"image_id": image_id, "path": rel.as_posix(), "identity": rel.parent.name}
        if stem in attrs.index:
            a = attrs.loc[stem]
            male = float(a["Male"])
            row["gender_original"] = "Male" if male > 0 else "not Male" if male < 0 else ""
            scores = {r: float(a[r]) for r in RACE_ATTRIBUTES}
            best = max(scores, key=scores.get)
            row["race_original"] = best if scores[best] > 0 else ""
            row.update(
                {"attr_male": a["Male"], **{f"attr_{r.lower()}": a[r] for r in RACE_ATTRIBUTES}}
            )
        else:
            issues.append(
                issue(
                    "unlabelled_image",
                    image_id,
                    "lfw_attributes",
                    stem,
                    "not in lfw_attributes.txt" if attr_path else "lfw_attributes.txt absent",
                )
            )
        rows.append(row)
    listed = set(attrs.index) - {Path(r["path"]).stem for r in rows}
    for key in sorted(listed):
        issues.append(
            issue("missing_file", safe_id(key), "lfw_attributes", key, "row without an image")
        )
    return Read(frame(rows), issues)


ADAPTER = Adapter(
    name="lfw",
    title="Labeled Faces in the Wild, deep-funnelled, + LFW attributes",
    homepage=HOME,
    licence="no licence stated; news photographs collected from the web, distributed for research",
    licence_url=HOME,
    access="direct",
    archives=(
        Archive(
            "lfw-deepfunneled.tgz",
            HOME + "lfw-deepfunneled.tgz",
            checksum="md5:68331da3eb755a505a502b5aacb3c201",
            checksum_source="torchvision.datasets.LFW file table (md5); size not published",
        ),
        Archive("lfw_attributes.txt", ATTRIBUTES_URL),
    ),
    labels="identity (folder); gender and race from attribute-classifier scores (Kumar et al. 2009)",
    size="13,233 images, 5,749 identities (1,680 with >= 2 images)",
    identities="yes",
    read=read,
    gender_map={"Male": "male", "not Male": "female"},
    race_map={"Asian": "Asian", "White": "White", "Black": "Black", "Indian": "Indian"},
    notes="gender/race are classifier outputs, not self-reports; the raw scores are kept (attr_*)",
)
