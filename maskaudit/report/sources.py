"""Numbers that link to the table row they came from.

Every number the report prints is read from one row of one TSV file the workflow wrote. A
:class:`SourceTable` reads a table together with each row's line number in the file; a
:class:`Citations` registry turns a row into an anchor id and keeps the literal line, so the page's
appendix shows exactly the row (file, line, rule) behind every figure and verdict. Ids are derived
from the path and line only (``s`` + 6 hex digits of the path's SHA-1 + ``-`` + line, e.g. ``s3fa91c-17``;
short, because a page cites thousands of rows): the same row always gets the same id, and the page
stays byte-identical for the same inputs.

Formatting (the one place numbers become text): rates and differences with 3 decimals, p-values
with 3 significant digits, ``n/a`` for a missing value.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from maskaudit.tsv import read_tsv

esc = html.escape

DODDINGTON = 30  # Doddington's rule of 30: fewer errors (or successes) than this and a rate is not yet trustworthy


def missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_rate(x) -> str:
    """A rate, difference or proportion: 3 decimals (``n/a`` when missing)."""
    return "n/a" if missing(x) else f"{float(x):.3f}"


def fmt_signed(x) -> str:
    """A signed difference: 3 decimals with an explicit sign."""
    return "n/a" if missing(x) else f"{float(x):+.3f}"


def fmt_p(p) -> str:
    """A p-value: 3 significant digits (``n/a`` when the test was not run)."""
    return "n/a" if missing(p) else f"{float(p):.3g}"


def fmt_interval(lo, hi, signed: bool = False) -> str:
    """``[lo, hi]``, or ``""`` when either end is missing (no interval could be formed)."""
    if missing(lo) or missing(hi):
        return ""
    f = fmt_signed if signed else fmt_rate
    return f"[{f(lo)}, {f(hi)}]"


def fmt_count(x) -> str:
    return (
        "n/a" if missing(x) else f"{float(x):.0f}" if float(x).is_integer() else f"{float(x):.2f}"
    )


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


@dataclass
class SourceTable:
    """A TSV table with the file line of every row (column ``_line``; the header is line 1)."""

    path: str
    rule: str
    frame: pd.DataFrame
    lines: list[str]

    @classmethod
    def read(cls, path, rule: str, shown_as: str | None = None) -> SourceTable:
        """Read ``path``; ``shown_as`` is the path printed in the report (relative to ``results/``'s parent)."""
        text = Path(path).read_text(encoding="utf-8").split("\n")
        try:
            frame = read_tsv(path)
        # a table with no rows (e.g. mask effects of an already-masked dataset)
        except pd.errors.EmptyDataError:
            frame = pd.DataFrame()
        frame["_line"] = range(2, len(frame) + 2)
        return cls(str(shown_as or path), rule, frame, text)

    @classmethod
    def empty(cls, path: str, rule: str, columns) -> SourceTable:
        frame = pd.DataFrame(columns=[*columns, "_line"])
        return cls(path, rule, frame, [])

    def line(self, n: int) -> str:
        return self.lines[n - 1]

    def select(self, **equal) -> pd.DataFrame:
        """Rows whose columns equal the given values (strings compared as text)."""
        f = self.frame
        mask = pd.Series(True, index=f.index)
        for col, value in equal.items():
            if col not in f:
                return f.iloc[0:0]
            mask &= f[col].astype(str) == str(value)
        return f[mask]


@dataclass
class Citations:
    """The rows a page or card cites: id -> (table path, line, rule, literal row)."""

    rows: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)

    def cite(self, table: SourceTable, line: int) -> str:
        sid = f"s{hashlib.sha1(table.path.encode()).hexdigest()[:6]}-{int(line)}"
        self.rows[sid] = {
            "path": table.path,
            "line": int(line),
            "rule": table.rule,
            "row": table.line(int(line)),
        }
        self.headers[table.path] = table.line(1)
        return sid

    def merge(self, other: dict) -> None:
        """Add the rows of another registry (as :meth:`to_json` wrote them)."""
        self.rows.update(other["rows"])
        self.headers.update(other["headers"])

    def to_json(self) -> dict:
        return {
            "rows": dict(sorted(self.rows.items())),
            "headers": dict(sorted(self.headers.items())),
        }


def small_sample(row, min_identities: int) -> list[str]:
    """Why a rate row is a small sample: under the rule of 30 and/or fewer than ``min_identities``."""
    why = []
    if (
        "under_30_errors" in row
        and str(row["under_30_errors"]) == "True"
        and not missing(row.get("errors"))
    ):
        e, t = float(row["errors"]), float(row["trials"])
        why.append(
            f"{e:.0f} of {t:.0f} trials in error: under {DODDINGTON} errors or successes (rule of 30)"
        )
    n = row.get("n_units")
    if not missing(n) and float(n) < min_identities:
        why.append(f"{float(n):.0f} identities (< {min_identities})")
    return why


def number(
    cites: Citations,
    table: SourceTable,
    row,
    column: str = "value",
    *,
    signed: bool = False,
    ci: tuple[str, str] | None = None,
    warn: list[str] | None = None,
) -> str:
    """HTML for one cited value: the number (a link to its row), its interval, a ⚠ with the reasons.

    ``data-col`` / ``data-ci`` name the columns shown, so a test can check the text against the row
    (``href`` / ``data-src``: the row's id in the appendix)."""
    sid = cites.cite(table, row["_line"])
    f = fmt_signed if signed else fmt_rate
    out = f'<a class="num" href="#{sid}" data-col="{column}">{f(row[column])}</a>'

    if ci:
        text = fmt_interval(row[ci[0]], row[ci[1]], signed)
        if text:
            out += f' <span class="ci" data-src="{sid}" data-ci="{ci[0]} {ci[1]}">{text}</span>'
        else:
            out += (
                ' <span class="ci none" title="no interval: fewer than two identities contribute">'
                "[no interval]</span>"
            )
    if warn:
        out += f' <span class="warn" title="{esc("; ".join(warn))}">&#9888;</span>'
    return out
