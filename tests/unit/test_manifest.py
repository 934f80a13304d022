"""The manifest contract: validation messages, canonical form, path resolution."""

import pandas as pd
import pytest

from maskaudit.datasets.custom import import_manifest
from maskaudit.datasets.manifest import (
    ManifestError,
    read_manifest,
    validate_manifest,
    write_manifest,
)


def _frame(**over):
    base = {
        "image_id": ["a", "b"],
        "path": ["img/a.jpg", "img/b.jpg"],
        "identity": ["p1", "p2"],
        "gender": ["female", ""],
        "race": ["Black", "White"],
    }
    base.update(over)
    return pd.DataFrame(base)


def test_canonical_form_fills_optional_columns_and_unknown_labels():
    df = validate_manifest(_frame())
    assert list(df.columns) == [
        "image_id",
        "path",
        "identity",
        "gender",
        "race",
        "age",
        "source",
        "licence",
        "split",
    ]
    assert df.gender.tolist() == ["female", "unknown"]
    assert df.age.tolist() == ["", ""]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"image_id": ["a", "a"]}, "duplicate image_id"),
        ({"image_id": ["a", "b/c"]}, "row 3: image_id 'b/c'"),
        ({"identity": ["p1", " "]}, "row 3: empty identity"),
        ({"age": ["31", "about 40"]}, "age 'about 40'"),
    ],
)
def test_each_problem_is_named(change, message):
    with pytest.raises(ManifestError, match=message):
        validate_manifest(_frame(**change))


def test_missing_and_unknown_columns():
    with pytest.raises(ManifestError, match=r"missing required column\(s\) \['race'\]"):
        validate_manifest(_frame().drop(columns="race"))
    with pytest.raises(
        ManifestError, match=r"column name\(s\) \['Ethnicity'\] must be lowercase snake_case"
    ):
        validate_manifest(_frame(Ethnicity=["x", "y"]))


def test_dataset_specific_columns_are_kept_after_the_contract():
    df = validate_manifest(_frame(race_original=["B", "W"], age_bin=["20-29", ""]))
    assert list(df.columns)[-2:] == ["race_original", "age_bin"] and df.age_bin.tolist() == [
        "20-29",
        "",
    ]


def test_files_beside_the_manifest_folder_are_written_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "resources/x").mkdir(parents=True)
    write_manifest(
        _frame(path=[str(tmp_path / "resources/x/a.jpg"), "/elsewhere/b.jpg"]),
        tmp_path / "results/datasets/d/manifest.tsv",
    )
    raw = pd.read_csv(tmp_path / "results/datasets/d/manifest.tsv", sep="\t", dtype=str)
    assert raw.path.tolist() == ["../../../resources/x/a.jpg", "/elsewhere/b.jpg"]


def test_paths_are_written_relative_and_read_resolved(tmp_path):
    images = tmp_path / "data" / "img"
    images.mkdir(parents=True)
    df = _frame(path=[str(images / "a.jpg"), str(images / "b.jpg")])
    write_manifest(df, tmp_path / "data" / "manifest.tsv")
    raw = pd.read_csv(tmp_path / "data" / "manifest.tsv", sep="\t", dtype=str)
    assert raw.path.tolist() == ["img/a.jpg", "img/b.jpg"]
    back = read_manifest(tmp_path / "data" / "manifest.tsv")
    assert back.path.tolist() == [
        str(tmp_path / "data" / "img" / "a.jpg"),
        str(tmp_path / "data" / "img" / "b.jpg"),
    ]


def test_import_manifest_refuses_missing_images(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.jpg").write_bytes(b"x")
    _frame().to_csv(tmp_path / "user.tsv", sep="\t", index=False)
    with pytest.raises(FileNotFoundError, match="1 listed image"):
        import_manifest(tmp_path / "user.tsv", tmp_path / "out" / "manifest.tsv")
    (tmp_path / "img" / "b.jpg").write_bytes(b"corrupt but present: becomes a failure row later")
    assert len(import_manifest(tmp_path / "user.tsv", tmp_path / "out" / "manifest.tsv")) == 2
