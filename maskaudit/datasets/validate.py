"""Checking an adapter-built manifest against ``manifest.schema.yaml`` and reporting label coverage."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from maskaudit.datasets.taxonomy import UNKNOWN

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.yaml")


class SchemaError(ValueError):
    """Rows break the manifest schema; the message lists each problem with its row."""


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def check_schema(df: pd.DataFrame, schema: dict | None = None, *, where: str = "manifest") -> None:
    """Raise :class:`SchemaError` listing every row that breaks ``schema`` (column-wise, so fast)."""
    schema = schema or load_schema()
    problems = [f"missing required column '{c}'" for c in schema["required"] if c not in df.columns]
    for col, rule in schema["properties"].items():
        if col not in df.columns:
            continue
        values = df[col].astype(str)
        if "enum" in rule:
            bad = ~values.isin([str(v) for v in rule["enum"]])
            what = f"not one of {rule['enum']}"
        elif "pattern" in rule:
            bad = ~values.str.match(re.compile(rule["pattern"]))
            what = f"does not match {rule['pattern']}"
        else:
            continue
        for i in list(df.index[bad])[:20]:
            problems.append(f"row {i + 2}: {col} '{values[i]}' {what}")
        if bad.sum() > 20:
            problems.append(f"... and {int(bad.sum()) - 20} more rows with a bad {col}")
    if problems:
        raise SchemaError(f"{where} breaks {SCHEMA_PATH.name}:\n  " + "\n  ".join(problems))


def coverage(df: pd.DataFrame) -> dict[str, float]:
    """Share of rows with a value in each column (``unknown`` and empty count as missing)."""
    if len(df) == 0:
        return {c: 0.0 for c in df.columns}
    return {
        c: round(float(((df[c].astype(str) != "") & (df[c].astype(str) != UNKNOWN)).mean()), 6)
        for c in df.columns
    }


def summary(df: pd.DataFrame, issues: pd.DataFrame) -> dict:
    """The validation report: sizes, identities, per-column coverage, label counts, issue counts."""
    per_identity = df.groupby("identity").size() if len(df) else pd.Series(dtype=int)
    return {
        "n_images": int(len(df)),
        "n_identities": int(per_identity.size),
        "n_identities_with_2plus_images": int((per_identity >= 2).sum()),
        "coverage": coverage(df),
        "gender_counts": {k: int(v) for k, v in sorted(df.gender.value_counts().items())}
        if len(df)
        else {},
        "race_counts": {k: int(v) for k, v in sorted(df.race.value_counts().items())}
        if len(df)
        else {},
        "issues": {k: int(v) for k, v in sorted(issues.kind.value_counts().items())}
        if len(issues)
        else {},
    }
