"""Chicago Face Database 3.0 (Ma, Correll & Wittenbrink 2015): self-reported race and gender.

The release folder ``CFD Version 3.0/`` holds ``Images/<set>/<Model>/CFD-<Model>-<nnn>-<E>.jpg``
(model ``AF-200``: race letter, gender letter, number; expression ``N`` neutral, ``A``, ``F``, ``HC``,
``HO``) and ``CFD 3.0 Norming Data and Codebook.xlsx``. The workbook's sheets ``CFD U.S. Norming
Data``, ``CFD-MR U.S. Norming Data`` and ``CFD-I U.S. Norming Data`` have their column names in row 8
(``Model``, ``EthnicitySelf``, ``GenderSelf``, ``AgeSelf``, ..., ``LuminanceMedian``). Self-reported
values from the workbook are used where present, otherwise the letters of the model code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from maskaudit.datasets.adapters.base import Adapter, Read, find_file, issue, read_images, safe_id
from maskaudit.datasets.download import Archive

HOME = "https://www.chicagofaces.org/"
WORKBOOK = "CFD 3.0 Norming Data and Codebook.xlsx"
SHEETS = ("CFD U.S. Norming Data", "CFD-MR U.S. Norming Data", "CFD-I U.S. Norming Data")
NAME = re.compile(
    r"^CFD-(?:([A-Z]+)-)?([A-Z])([A-Z])-(\d+)-(\d+)-([A-Z]+)\.(?:jpg|jpeg|png)$", re.I
)


def read_norming(path: Path) -> pd.DataFrame:
    frames = []
    with pd.ExcelFile(path, engine="openpyxl") as xl:
        for sheet in SHEETS:
            if sheet not in xl.sheet_names:
                continue
            df = pd.read_excel(xl, sheet_name=sheet, header=7, dtype=str)
            df = df[df.get("Model", pd.Series(dtype=str)).fillna("").str.match(r"^[A-Z]+-\d+$")]
            frames.append(df.assign(sheet=sheet))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).drop_duplicates("Model").set_index("Model")


def _cell(norm: pd.DataFrame, model: str, col: str) -> str:
    if model not in norm.index or col not in norm.columns:
        return ""
    v = norm.at[model, col]
    return "" if pd.isna(v) else str(v).strip()


def read(root: Path) -> Read:
    book = find_file(root, WORKBOOK)
    norm = read_norming(book) if book else pd.DataFrame()

    def row(rel: Path, inner: Path, issues: list) -> dict | None:
        m = NAME.match(rel.name)
        image_id = safe_id(rel.stem)
        if not m:
            return None
        _, race_code, gender_code, number, _, expression = m.groups()
        model = f"{race_code.upper()}{gender_code.upper()}-{number}"
        age = _cell(norm, model, "AgeSelf")
        try:
            age = str(int(round(float(age)))) if age else ""
        except ValueError:
            issues.append(issue("unknown_label_code", image_id, "AgeSelf", age, "not a number"))
            age = ""
        if book and model not in norm.index:
            issues.append(
                issue("unlabelled_image", image_id, "Model", model, f"model not in {WORKBOOK}")
            )
        return {
            "image_id": image_id,
            "path": rel.as_posix(),
            "identity": model,
            "gender_original": _cell(norm, model, "GenderSelf") or gender_code.upper(),
            "race_original": _cell(norm, model, "EthnicitySelf") or race_code.upper(),
            "age": age,
            "expression": expression.upper(),
            "luminance_median": _cell(norm, model, "LuminanceMedian"),
            "label_source": "norming workbook (self-reported)"
            if model in norm.index
            else "model code",
        }

    return read_images(
        root,
        row,
        expected="expected CFD-<race><gender>-<nnn>-<nnn>-<expression>.jpg; the name is "
        "the identity, so the image is left out",
    )


ADAPTER = Adapter(
    name="cfd",
    title="Chicago Face Database 3.0 (CFD, CFD-MR, CFD-INDIA)",
    homepage=HOME,
    licence="free for non-commercial scientific research under the CFD licence agreement; no redistribution",
    licence_url=HOME,
    access="manual",
    how="request access on chicagofaces.org (licence agreement form); save the release zip you receive "
    "under the name below",
    archives=(Archive("CFD Version 3.0.zip", HOME, key="CFD_Version_3.0.zip"),),
    labels="self-reported race (A, B, L, W; I for CFD-INDIA, M for CFD-MR), gender, age; expression; "
    "measured median skin luminance",
    size="827 models (597 CFD + 88 CFD-MR + 142 CFD-INDIA) [unverified]; neutral plus expressions for a subset",
    identities="yes (model code)",
    read=read,
    gender_map={"F": "female", "M": "male"},
    race_map={
        "A": "Asian",
        "B": "Black",
        "L": "Latino",
        "W": "White",
        "I": "Indian",
        "M": "Multiracial",
    },
    notes="the name of the zip the CFD site sends is not public [unverified]; any name works if saved as stated",
)
