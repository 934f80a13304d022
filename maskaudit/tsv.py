"""The one TSV dialect of every table the workflow writes: tabs, ``\\n``, 6 decimals, ``NaN``.

Fixed formatting makes the same inputs give byte-identical files. Empty cells read back as empty
strings, ``NaN`` as a missing number -- except in label columns (:func:`is_label_column`: ids,
identities, demographic labels, paths), which are read as text, never coerced to missing or to a
number: an identity named ``NaN`` or ``007`` stays exactly that.

**float32 columns are written losslessly** with ``%.9g`` (nine significant digits identify every
float32 number), so a score read back (as float64) is exactly the float32 value the workflow compared
with its float32 threshold: decisions recomputed from a score file agree with the ``decision``
column. Scores and thresholds are kept float32 in the score files for that reason. Every other float
column (rates, intervals) is written with 6 decimals.

:func:`write_tsv` writes exactly what ``DataFrame.to_csv(sep="\\t", float_format="%.6f",
na_rep="NaN")`` writes (float32 columns aside), about twice as fast on score files of a million
rows (pandas formats every
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
    if (
        not header
        or any(c is None for c in columns)
        or any(ch in h for h in header for ch in _SPECIAL)
        or df.columns.has_duplicates
    ):
        df = df.copy() if any(df[c].dtype == np.float32 for c in df.columns) else df
        for j, _c in enumerate(df.columns):
            # lossless, as above (pandas would print 6 decimals)
            if df.iloc[:, j].dtype == np.float32:
                df.isetitem(
                    j,
                    [FLOAT32_FORMAT % x if x == x else "NaN" for x in df.iloc[:, j].astype(float)],
                )
        df.to_csv(
            path, sep="\t", index=False, float_format="%.6f", na_rep="NaN", lineterminator="\n"
        )
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(header) + "\n")
        fh.writelines("\t".join(row) + "\n" for row in zip(*columns))


LABELS = frozenset(
    {
        "image_id",
        "identity",
        "gender",
        "race",
        "age",
        "path",
        "source",
        "licence",
        "split",
        "near_duplicates",
        "subject",
        "group",
    }
)  # group: a demographic group in the metric tables
LABEL_PREFIXES = ("probe_", "ref_")
LABEL_SUFFIXES = ("_subject", "_subjects", "_original")


def is_label_column(name) -> bool:
    """Whether a column holds labels (read as text): :data:`LABELS`, the same with a ``probe_``/``ref_``
    prefix, ``probe_id``/``ref_id``, and names ending in ``_subject(s)`` or ``_original``."""
    name = str(name)
    bare = name.removeprefix("probe_").removeprefix("ref_")
    return (
        name in LABELS
        or (name.startswith(LABEL_PREFIXES) and (bare in LABELS or bare == "id"))
        or name.endswith(LABEL_SUFFIXES)
    )


def read_tsv(path, dtype=None, usecols=None) -> pd.DataFrame:
    """A table written by :func:`write_tsv`: ``NaN`` is a missing number, except in label columns,
    which are read as text (``dtype=str``, nothing coerced)."""
    header = pd.read_csv(path, sep="\t", nrows=0).columns
    labels = [c for c in header if is_label_column(c) and (usecols is None or c in usecols)]
    if labels and not isinstance(dtype, (dict, type(None))):
        dtype = {c: dtype for c in header}
    if labels:
        dtype = {**(dtype or {}), **{c: str for c in labels}}
    na_values = {c: ["NaN"] for c in header if c not in labels}
    return pd.read_csv(
        path, sep="\t", keep_default_na=False, na_values=na_values, dtype=dtype, usecols=usecols
    )
