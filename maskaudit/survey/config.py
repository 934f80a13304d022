"""Checks of the config's ``survey`` section that JSON Schema cannot express (references between sections)."""

from __future__ import annotations

from pathlib import Path


def survey_problems(survey: dict, datasets, variants) -> list[str]:
    """Why the configured survey cannot be built from this audit (empty when it can, or when none is asked)."""
    if not survey.get("dataset"):
        return []
    problems = []
    if survey["dataset"] not in datasets:
        problems.append(
            f"survey.dataset '{survey['dataset']}' is not audited (datasets: {', '.join(datasets)})"
        )
    missing = [v for v in survey.get("variants", []) if v not in variants]
    if missing:
        problems.append(f"survey.variants {missing} are not under masks.variants")
    return problems


def shipped_path(path: str | None, base) -> str | None:
    """``path`` as given when it is absolute or exists from the working directory, else the file of
    that name next to the workflow (``base``) when there is one; otherwise as given (Snakemake then
    reports the missing file by name)."""
    if not path:
        return None
    p = Path(path)
    if p.is_absolute() or p.exists():
        return path
    shipped = Path(base) / p
    return str(shipped) if shipped.exists() else path
