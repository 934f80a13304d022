"""FairFace (Kärkkäinen & Joo, WACV 2021): 7 race groups, gender and 9 age bins from CSV label files.

Layout: ``fairface-img-margin025-trainval.zip`` unpacks to ``train/<n>.jpg`` and ``val/<n>.jpg``;
``fairface_label_train.csv`` / ``fairface_label_val.csv`` have columns
``file,age,gender,race,service_test`` with ``file`` = ``train/1.jpg``. FairFace has no identity
labels, so each image is its own identity (only same-image comparisons are genuine).
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
    safe_id,
)
from maskaudit.datasets.download import Archive

REPO = "https://github.com/joojs/fairface"
LABEL_FILES = {"train": "fairface_label_train.csv", "val": "fairface_label_val.csv"}


def read(root: Path) -> Read:
    issues, labels = [], []
    for split, name in LABEL_FILES.items():
        path = find_file(root, name)
        if path is None:
            raise FileNotFoundError(f"FairFace label file {name} is missing from {root}")
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = {"file", "age", "gender", "race"} - set(df.columns)
        if missing:
            raise ValueError(
                f"{name}: missing column(s) {sorted(missing)}; expected file,age,gender,race,service_test"
            )
        df["split"] = split
        labels.append(df)
    labels = pd.concat(labels, ignore_index=True)
    # The CSVs name images as "<split>/<n>.jpg"; match on those two parts, wherever the zip put them.
    images = {"/".join(p.parts[-2:]): p.as_posix() for p in image_files(root)}
    rows, seen = [], set()
    for rec in labels.itertuples(index=False):
        image_id = safe_id(Path(rec.file).with_suffix("").as_posix())
        rel = images.get(rec.file.strip().lstrip("./"))
        if rel is None:
            issues.append(
                issue(
                    "missing_file",
                    image_id,
                    "file",
                    rec.file,
                    f"listed in {LABEL_FILES[rec.split]}",
                )
            )
            continue
        seen.add(rel)
        rows.append(
            {
                "image_id": image_id,
                "path": rel,
                "identity": image_id,
                "gender_original": rec.gender,
                "race_original": rec.race,
                "age": "",
                "split": rec.split,
                "age_bin": rec.age,
                "service_test": getattr(rec, "service_test", ""),
            }
        )
    for rel in sorted(set(images.values()) - seen):
        image_id = safe_id(*Path(rel).with_suffix("").parts[-2:])
        issues.append(issue("unlabelled_image", image_id, "file", rel, "no row in the label CSVs"))
        rows.append(
            {"image_id": image_id, "path": rel, "identity": image_id, "split": Path(rel).parts[-2]}
        )
    return Read(frame(rows), issues)


ADAPTER = Adapter(
    name="fairface",
    title="FairFace (padding 0.25, train+val)",
    homepage=REPO,
    licence="CC BY 4.0",
    licence_url=REPO + "#license",
    access="manual",
    how="the FairFace README links the image zip and both label CSVs on Google Drive, which needs a "
    "browser (virus-scan confirmation page); download the three files there",
    archives=(
        Archive("fairface-img-margin025-trainval.zip", REPO),
        Archive("fairface_label_train.csv", REPO),
        Archive("fairface_label_val.csv", REPO),
    ),
    labels="gender (Male/Female), race (7 groups), age bin (9 bins) per image; annotator-perceived",
    size="97,698 images (86,744 train + 10,954 val) [unverified]",
    identities="none (each image is its own identity)",
    read=read,
    gender_map={"Male": "male", "Female": "female"},
    race_map={
        "White": "White",
        "Black": "Black",
        "Indian": "Indian",
        "East Asian": "Asian",
        "Southeast Asian": "Asian",
        "Middle Eastern": "Middle Eastern",
        "Latino_Hispanic": "Latino",
    },
    notes="age is a bin, kept in age_bin (age stays empty: the contract's age is whole years)",
)
