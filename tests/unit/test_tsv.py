"""write_tsv writes byte for byte what pandas' to_csv writes in the workflow's dialect."""

import numpy as np
import pandas as pd
import pytest

from maskaudit.tsv import read_tsv, write_tsv


def pandas_bytes(df, path):
    df.to_csv(path, sep="\t", index=False, float_format="%.6f", na_rep="NaN", lineterminator="\n")
    return path.read_bytes()


FRAMES = {
    "mixed": pd.DataFrame(
        {
            "score": [0.1234567, -0.0, np.nan, np.inf, -1e-9, 1e12],
            "n": [1, 2, 3, 4, 5, 6],
            "ok": [True, False, True, True, False, True],
            "id": ["a", "b", "", "d é", None, "f"],
            "str": pd.array(["x", None, "z", "", "y", "w"], dtype="string"),
            "obj": ["t", 3, 2.5, None, np.nan, False],
            "nullable": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "cat": pd.Categorical(["u", "v", "u", None, "v", "u"]),
        }
    ),
    "needs_quoting": pd.DataFrame(
        {"detail": ["plain", "has\ttab", 'has "quote"', "line\nbreak"], "x": [1.0] * 4}
    ),
    "dates": pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2021-05-06"]), "x": [1, 2]}),
    "unhashable": pd.DataFrame({"lists": [[1, 2], [3]]}),
    "empty_rows": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}),
    "no_columns": pd.DataFrame(),
}


@pytest.mark.parametrize("name", FRAMES)
def test_same_bytes_as_pandas(name, tmp_path):
    df = FRAMES[name]
    write_tsv(df, tmp_path / "ours.tsv")
    assert (tmp_path / "ours.tsv").read_bytes() == pandas_bytes(df, tmp_path / "pandas.tsv")


def test_round_trip_keeps_empty_strings_and_missing_numbers(tmp_path):
    write_tsv(FRAMES["mixed"], tmp_path / "t.tsv")
    back = read_tsv(tmp_path / "t.tsv")
    assert back.id.tolist()[2] == "" and np.isnan(back.score[2]) and back.score[0] == 0.123457
