"""Hostile input, class *manifests* (and the labels in every table read back): labels are text.

Expected outcome of each case: the label survives exactly (a counted group of its own, never
missing), or a warning names the rows concerned; nothing is dropped silently.
"""

import numpy as np
import pandas as pd

from maskaudit.tsv import read_tsv, write_tsv


def test_an_identity_and_a_race_named_nan_stay_labels(tmp_path):
    """Outcome: 'NaN', 'NA', 'null', '007' and '' are read back exactly as written; numbers still parse."""
    table = pd.DataFrame({"image_id": ["a", "b", "c", "d"], "identity": ["NaN", "007", "null", "NA"],
                          "race": ["NaN", "unknown", "asian", "NaN"], "probe_subject": ["NaN", "1", "x", "y"],
                          "score": [0.5, np.nan, 1.0, 2.0]})
    write_tsv(table, tmp_path / "t.tsv")
    back = read_tsv(tmp_path / "t.tsv")
    assert back.identity.tolist() == ["NaN", "007", "null", "NA"] and back.race.tolist() == ["NaN", "unknown", "asian", "NaN"]
    assert back.probe_subject.tolist() == ["NaN", "1", "x", "y"] and not back[["identity", "race"]].isna().any().any()
    assert back.score.isna().tolist() == [False, True, False, False]  # a missing number is still missing
    assert read_tsv(tmp_path / "t.tsv", dtype=str).identity.tolist()[0] == "NaN"
    assert read_tsv(tmp_path / "t.tsv", usecols=["identity", "score"]).identity.tolist()[0] == "NaN"


def test_a_variant_manifest_keeps_an_identity_named_nan(tmp_path):
    from maskaudit.variants import read_variant_manifest, write_variant_manifest

    df = pd.DataFrame({"image_id": ["a", "b"], "path": [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")],
                       "identity": ["NaN", "nan"], "gender": ["female", "NaN"], "race": ["NaN", "black"],
                       "status": ["ok", "ok"], "detail": ["", ""], "covered_groups": ["", ""]})
    write_variant_manifest(df, tmp_path / "m.tsv")
    back = read_variant_manifest(tmp_path / "m.tsv")
    assert back.identity.tolist() == ["NaN", "nan"] and back.gender.tolist() == ["female", "NaN"]
    assert back.race.tolist() == ["NaN", "black"]
