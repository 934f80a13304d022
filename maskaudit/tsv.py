"""The one TSV dialect of every table the workflow writes: tabs, ``\\n``, 6 decimals, ``NaN``.

Fixed formatting makes the same inputs give byte-identical files. Empty cells read back as empty
strings, ``NaN`` as a missing number.
"""

from __future__ import annotations

import pandas as pd


def write_tsv(df: pd.DataFrame, path) -> None:
    df.to_csv(path, sep="\t", index=False, float_format="%.6f", na_rep="NaN", lineterminator="\n")


def read_tsv(path, dtype=None) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NaN"], dtype=dtype)
