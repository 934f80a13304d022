"""The one TSV dialect of every table the workflow writes: tabs, ``\\n``, 6 decimals, ``NaN``.

Fixed formatting makes the same inputs give byte-identical files. Empty cells read back as empty
strings, ``NaN`` as a missing number.

**float32 columns are written losslessly** with ``%.9g`` (nine significant digits identify every
float32 number), so a score read back (as float64) is exactly the float32 value the workflow compared
with its float32 threshold: decisions recomputed from a score file agree with the ``decision``
column. Scores and thresholds are kept float32 in the score files for that reason. Every other float
column (rates, intervals) is written with 6 decimals.

:func:`write_tsv` writes exactly what ``DataFrame.to_csv(sep="\\t", float_format="%.6f",
na_rep="NaN")`` writes (float32 columns aside), about twice as fast on score files of a million rows (pandas formats every
cell through several Python calls): each column becomes a list of strings once, then rows are joined.
A table with a cell that would need CSV quoting (a tab, quote or line break) goes through pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SPECIAL = ("\t", '"', "\n", "\r")
FLOAT32_FORMAT = "%.9g"  # shortest fixed format that round-trips every float32


def _missing(x) -> bool:
    return x is None or x is pd.NA or (type(x) is float and x != x)  # noqa: E721


def _cells(col: pd.Series) -> list[str] | None:
    """The column as pandas would print it, or ``None`` to leave it to pandas (a cell that needs
    quoting, or a dtype other than float, integer, bool, string or object)."""
    kind = col.dtype.kind
    if kind == "f":
        fmt = FLOAT32_FORMAT if col.dtype == np.float32 else "%.6f"
        cells = [fmt % x for x in col.to_numpy(dtype=float).tolist()]
    elif kind in "iub":
        cells = list(map(str, col.tolist()))
    elif kind == "O":
        cells = col.tolist()
        try:
            distinct = set(cells)
        except TypeError:  # unhashable cells (lists, dicts)
            return None
        if not all(type(x) is str or _missing(x) for x in distinct):  # noqa: E721 - exactly str
            cells = [str(x) for x in cells]
        if any(c in x for x in distinct if type(x) is str for c in _SPECIAL):  # noqa: E721
            return None
    else:
        return None
    for i in np.flatnonzero(col.isna().to_numpy()).tolist():
        cells[i] = "NaN"
    return cells


def write_tsv(df: pd.DataFrame, path) -> None:
    columns = [_cells(df[c]) for c in df.columns]
    header = [str(c) for c in df.columns]
    if (not header or any(c is None for c in columns) or any(ch in h for h in header for ch in _SPECIAL)
            or df.columns.has_duplicates):
        df = df.copy() if any(df[c].dtype == np.float32 for c in df.columns) else df
        for j, c in enumerate(df.columns):
            if df.iloc[:, j].dtype == np.float32:  # lossless, as above (pandas would print 6 decimals)
                df.isetitem(j, [FLOAT32_FORMAT % x if x == x else "NaN" for x in df.iloc[:, j].astype(float)])
        df.to_csv(path, sep="\t", index=False, float_format="%.6f", na_rep="NaN", lineterminator="\n")
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(header) + "\n")
        fh.writelines("\t".join(row) + "\n" for row in zip(*columns))


def read_tsv(path, dtype=None, usecols=None) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NaN"], dtype=dtype, usecols=usecols)
