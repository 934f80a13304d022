"""Validating the workflow configuration, with messages that name the key and the fix."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class ConfigError(ValueError):
    """The configuration is invalid. The message names every offending key and how to fix it."""


def load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def validate_config(config: dict, schema: dict) -> dict:
    """Return a copy of ``config`` with schema defaults filled in, or raise :class:`ConfigError`.

    All violations are reported at once, each as ``config key 'a.b.c': problem. Fix: ...``.
    """
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [_describe(err) for err in errors]
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(lines))
    filled = copy.deepcopy(config)
    _fill_defaults(filled, schema)
    _check_cross_references(filled)
    return filled


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(err: jsonschema.ValidationError) -> str:
    where = _key(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed))
        parts = []
        for name in unknown:
            key = f"{where}.{name}" if err.absolute_path else name
            hint = difflib.get_close_matches(name, allowed, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"allowed keys here: {', '.join(allowed)}"
            parts.append(f"config key '{key}' is not recognised. Fix: remove or rename it ({fix})")
        return "; ".join(parts)
    if err.validator == "required":
        return f"config key '{where}' is missing a required entry: {err.message}. Fix: add it (see config/README.md)"
    if err.validator == "not":  # only used to reserve names
        return f"config key '{where}' has a reserved name '{err.instance}'. Fix: {err.schema.get('description', '')}"
    desc = err.schema.get("description", "")
    fix = f" Fix: {desc}" if desc else ""
    return f"config key '{where}': {err.message}.{fix}"


def _fill_defaults(instance: Any, schema: dict) -> None:
    if not isinstance(instance, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        if name not in instance and "default" in sub:
            instance[name] = copy.deepcopy(sub["default"])
        if name in instance:
            _fill_defaults(instance[name], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for name, value in instance.items():
            if name not in schema.get("properties", {}):
                _fill_defaults(value, extra)


def _check_cross_references(config: dict) -> None:
    """Checks JSON Schema cannot express: references between sections."""
    from maskaudit.masking import resolve_colour  # the one colour check, shared with `maskaudit mask`

    problems = []
    colours = config["masks"]["colours"]
    named = [(f"masks.variants.{vid}.colour", spec["colour"]) for vid, spec in config["masks"]["variants"].items()]
    named += [("masks.grid.colours", c) for c in (config["masks"].get("grid") or {}).get("colours", [])]
    for key, value in named:
        for colour in value if isinstance(value, list) else [value]:
            try:
                resolve_colour(colour, colours)
            except ValueError:
                problems.append(
                    f"config key '{key}' names '{colour}', which is not in 'masks.colours' "
                    f"({', '.join(sorted(colours))}). Fix: add it to masks.colours, pick one of those or give a hex "
                    "value such as '#1F5FBF'"
                )
    problems += _dataset_problems(config["datasets"])
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


def _dataset_problems(datasets: dict) -> list[str]:
    """Adapter names and archive overrides must name things the adapter table has."""
    from maskaudit.datasets.adapters import ADAPTERS

    problems = []
    for name, entry in datasets.items():
        source = entry.get("from")
        if entry["builder"] == "stress" and (source not in datasets or datasets[source]["builder"] == "stress"):
            problems.append(f"config key 'datasets.{name}.from' names '{source}', which is not a configured real "
                            f"dataset. Fix: use one of {', '.join(sorted(d for d, e in datasets.items() if e['builder'] != 'stress'))}")
        if entry["builder"] != "adapter":
            for key in ("adapter", "sample", "archives"):
                if entry.get(key):
                    problems.append(f"config key 'datasets.{name}.{key}' only applies to builder 'adapter'. "
                                    "Fix: remove it or set builder: adapter")
            continue
        adapter = ADAPTERS.get(entry["adapter"])
        if adapter is None:
            hint = difflib.get_close_matches(entry["adapter"], list(ADAPTERS), n=1)
            problems.append(f"config key 'datasets.{name}.adapter' names '{entry['adapter']}', which is not an "
                            f"adapter. Fix: use one of {', '.join(sorted(ADAPTERS))}"
                            + (f" (did you mean '{hint[0]}'?)" if hint else ""))
            continue
        files = {a.file for a in adapter.archives} | {a.key for a in adapter.archives}
        for file in entry.get("archives", {}):
            if file not in files:
                problems.append(f"config key 'datasets.{name}.archives.{file}' is not an archive of adapter "
                                f"'{adapter.name}'. Fix: use one of {', '.join(sorted(a.file for a in adapter.archives))}")
    return problems
