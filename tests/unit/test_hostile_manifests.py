"""Hostile input, class *manifests* (and the labels in every table read back): labels are text.

Expected outcome of each case: the label survives exactly (a counted group of its own, never
missing), or a warning names the rows concerned; nothing is dropped silently.
"""

import numpy as np
import pandas as pd

from maskaudit.tsv import read_tsv, write_tsv


def test_an_identity_and_a_race_named_nan_stay_labels(tmp_path):
    """Outcome: 'NaN', 'NA', 'null', '007' and '' are read back exactly as written; numbers still parse."""
    table = pd.DataFrame(
        {
            "image_id": ["a", "b", "c", "d"],
            "identity": ["NaN", "007", "null", "NA"],
            "race": ["NaN", "unknown", "asian", "NaN"],
            "probe_subject": ["NaN", "1", "x", "y"],
            "score": [0.5, np.nan, 1.0, 2.0],
        }
    )
    write_tsv(table, tmp_path / "t.tsv")
    back = read_tsv(tmp_path / "t.tsv")
    assert back.identity.tolist() == ["NaN", "007", "null", "NA"] and back.race.tolist() == [
        "NaN",
        "unknown",
        "asian",
        "NaN",
    ]
    assert (
        back.probe_subject.tolist() == ["NaN", "1", "x", "y"]
        and not back[["identity", "race"]].isna().any().any()
    )
    assert back.score.isna().tolist() == [
        False,
        True,
        False,
        False,
    ]  # a missing number is still missing
    assert read_tsv(tmp_path / "t.tsv", dtype=str).identity.tolist()[0] == "NaN"
    assert read_tsv(tmp_path / "t.tsv", usecols=["identity", "score"]).identity.tolist()[0] == "NaN"
    write_tsv(
        pd.DataFrame({"attribute": ["race"], "group": ["NaN"], "rate": [0.5]}), tmp_path / "m.tsv"
    )
    # a metric table's group named NaN
    assert read_tsv(tmp_path / "m.tsv").group.tolist() == ["NaN"]


def test_a_variant_manifest_keeps_an_identity_named_nan(tmp_path):
    from maskaudit.masking import read_variant_manifest, write_variant_manifest

    df = pd.DataFrame(
        {
            "image_id": ["a", "b"],
            "path": [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")],
            "identity": ["NaN", "nan"],
            "gender": ["female", "NaN"],
            "race": ["NaN", "black"],
            "status": ["ok", "ok"],
            "detail": ["", ""],
            "covered_groups": ["", ""],
        }
    )
    write_variant_manifest(df, tmp_path / "m.tsv")
    back = read_variant_manifest(tmp_path / "m.tsv")
    assert back.identity.tolist() == ["NaN", "nan"] and back.gender.tolist() == ["female", "NaN"]
    assert back.race.tolist() == ["NaN", "black"]


def _custom(tmp_path, rows):
    from PIL import Image

    root = tmp_path / "data"
    root.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (8, 8)).save(root / name)
    Image.new("RGB", (8, 8)).save(tmp_path / "elsewhere.png")
    text = "image_id\tpath\tidentity\tgender\trace\n" + "".join("\t".join(r) + "\n" for r in rows)
    (root / "manifest.tsv").write_text(text)
    return root / "manifest.tsv"


def test_paths_leaving_the_dataset_root_are_kept_with_a_warning(tmp_path, caplog):
    """Outcome: all rows kept; a warning names the '../' path (the issue's silent case)."""
    from maskaudit.datasets.custom import import_manifest

    src = _custom(
        tmp_path,
        [
            ("a", "a.png", "p1", "female", "asian"),
            ("x", "../elsewhere.png", "p1", "female", "asian"),
        ],
    )
    with caplog.at_level("WARNING"):
        df = import_manifest(src, tmp_path / "out" / "manifest.tsv")
    assert len(df) == 2
    assert (
        "1 path(s) lie outside the manifest's folder" in caplog.text
        and "../elsewhere.png" in caplog.text
    )


def test_labels_that_disagree_within_an_identity_are_reported(tmp_path, caplog):
    """Outcome: rows kept, a warning names the identity and both labels, and which one the tables use."""
    from maskaudit.datasets.custom import import_manifest

    src = _custom(
        tmp_path, [("a", "a.png", "p1", "female", "asian"), ("b", "b.png", "p1", "male", "asian")]
    )
    with caplog.at_level("WARNING"):
        import_manifest(src, tmp_path / "out" / "manifest.tsv")
    assert (
        "identity 'p1' has gender labels ['female', 'male']; its first image's 'female' is used"
        in caplog.text
    )
    assert "outside" not in caplog.text
