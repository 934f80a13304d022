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


# Every vocabulary the config names things from, read from the one module that owns it. The schema
# says only ``vocabulary: <name>`` (no list); :func:`validate_config` checks the value against the
# owner and suggests the nearest name. ``config/README.md`` ("Names") is generated from this table
# (:func:`vocabulary_markdown`) and a test keeps the two equal.
def _systems():
    from maskaudit.models import REGISTRY

    return tuple(REGISTRY)


def _vendors():
    from maskaudit.vendors import VENDORS

    return VENDORS


def _mask_kinds():
    from maskaudit.masks import MASK_KINDS

    return MASK_KINDS


def _textures():
    from maskaudit.masks import TEXTURES

    return TEXTURES


def _coverages():
    from maskaudit.masks import COVERAGE_LEVELS

    return COVERAGE_LEVELS


def _alignments():
    from maskaudit.models import ALIGNMENTS

    return ALIGNMENTS


def _detectors():
    from maskaudit.models import DETECTORS

    return DETECTORS


def _normalizations():
    from maskaudit.models import NORMALIZATIONS

    return NORMALIZATIONS


def _adapters():
    from maskaudit.datasets.adapters import ADAPTERS

    return tuple(ADAPTERS)


# name -> (what one of them is called in messages, its owner, the names it accepts)
VOCABULARIES = {
    "system": ("model", "maskaudit/models/__init__.py: REGISTRY", _systems),
    "vendor": ("vendor", "maskaudit/models/__init__.py: REGISTRY, kind 'comparison'", _vendors),
    "mask_kind": ("mask kind", "maskaudit/masks/geometry.py: MASK_KIND_SHAPES", _mask_kinds),
    "texture": ("texture", "maskaudit/masks/render.py: _TEXTURE (and plain)", _textures),
    "coverage": ("coverage", "maskaudit/masks/geometry.py: COVERAGE_LEVELS", _coverages),
    "alignment": ("alignment", "maskaudit/models/__init__.py: ALIGNMENTS", _alignments),
    "detector": (
        "deepface detector backend",
        "maskaudit/models/__init__.py: DETECTORS",
        _detectors,
    ),
    "normalization": (
        "deepface normalisation",
        "maskaudit/models/__init__.py: NORMALIZATIONS",
        _normalizations,
    ),
    "adapter": ("dataset adapter", "maskaudit/datasets/adapters/__init__.py: ADAPTERS", _adapters),
}


def vocabulary(name: str) -> tuple[str, ...]:
    """The names vocabulary ``name`` accepts, in its owner's order."""
    return tuple(VOCABULARIES[name][2]())


def unknown_name(vocab: str, value: str, where: str) -> str:
    """``unknown model 'arcfase' in models.0; did you mean 'arcface'? Fix: ...``"""
    noun, _, _ = VOCABULARIES[vocab]
    names = vocabulary(vocab)
    hint = difflib.get_close_matches(value, names, n=1)
    mean = f"; did you mean '{hint[0]}'?" if hint else ""
    return (
        f"unknown {noun} '{value}' in {where}{mean} Fix: use one of {', '.join(names)} "
        "(config/README.md, Names)"
    )


def vocabulary_markdown() -> str:
    """The Names section of ``config/README.md``: every vocabulary, its owner and its names."""
    lines = ["| vocabulary | owner (add a name there) | names |", "|---|---|---|"]
    for vocab, (noun, owner, _) in VOCABULARIES.items():
        owner_file, owner_name = owner.split(": ", 1)
        names = ", ".join(f"`{n}`" for n in vocabulary(vocab))
        lines.append(f"| {noun} | `{owner_file}` {owner_name} | {names} |")
    return "\n".join(lines) + "\n"


def _vocabulary_keyword(validator, vocab, instance, schema):
    """JSON Schema keyword ``vocabulary: <name>``: a string must be one of that vocabulary's names."""
    if isinstance(instance, str) and instance not in vocabulary(vocab):
        yield jsonschema.ValidationError(f"vocabulary:{vocab}")


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"vocabulary": _vocabulary_keyword}
)


def load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def validate_config(config: dict, schema: dict) -> dict:
    """Return a copy of ``config`` with schema defaults filled in, or raise :class:`ConfigError`.

    All violations are reported at once, each as ``config key 'a.b.c': problem. Fix: ...``.
    """
    validator = _Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [_describe(err) for err in errors]
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(lines))
    filled = copy.deepcopy(config)
    _fill_defaults(filled, schema)
    _fill_vendor_defaults(filled, schema)
    _check_cross_references(filled)
    return filled


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(err: jsonschema.ValidationError) -> str:
    if err.validator in ("oneOf", "anyOf"):  # a name or a list of names: say which name is unknown
        named = [e for e in err.context if e.validator == "vocabulary"]
        if named:
            return "; ".join(_describe(e) for e in named)
    where = _key(err.absolute_path)
    if err.validator == "vocabulary":
        return f"config key '{where}': " + unknown_name(err.validator_value, err.instance, where)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(allowed))
        parts = []
        for name in unknown:
            key = f"{where}.{name}" if err.absolute_path else name
            hint = difflib.get_close_matches(name, allowed, n=1)
            fix = (
                f"did you mean '{hint[0]}'?" if hint else f"allowed keys here: {', '.join(allowed)}"
            )
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


def _fill_vendor_defaults(config: dict, schema: dict) -> None:
    """A listed commercial system without a ``vendors.<id>`` block gets the settings every vendor has."""
    from maskaudit.vendors import VENDORS

    common = schema["properties"]["vendors"]["additionalProperties"]
    for model in config["models"]:
        if model in VENDORS and model not in config["vendors"]:
            config["vendors"][model] = {}
            _fill_defaults(config["vendors"][model], common)


def _check_cross_references(config: dict) -> None:
    """Checks JSON Schema cannot express: references between sections."""
    # the one colour check, shared with `maskaudit mask`
    from maskaudit.masking import resolve_colour

    problems = []
    colours = config["masks"]["colours"]
    named = [
        (f"masks.variants.{vid}.colour", spec["colour"])
        for vid, spec in config["masks"]["variants"].items()
    ]
    named += [
        ("masks.grid.colours", c) for c in (config["masks"].get("grid") or {}).get("colours", [])
    ]
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
    problems += _vendor_problems(config)
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))


def _dataset_problems(datasets: dict) -> list[str]:
    """Adapter names and archive overrides must name things the adapter table has."""
    from maskaudit.datasets.adapters import ADAPTERS

    problems = []
    for name, entry in datasets.items():
        source = entry.get("from")
        if entry["builder"] == "stress" and (
            source not in datasets or datasets[source]["builder"] == "stress"
        ):
            problems.append(
                f"config key 'datasets.{name}.from' names '{source}', which is not a configured real "
                f"dataset. Fix: use one of "
                f"{', '.join(sorted(d for d, e in datasets.items() if e['builder'] != 'stress'))}"
            )
        if entry["builder"] != "adapter":
            for key in ("adapter", "sample", "archives"):
                if entry.get(key):
                    problems.append(
                        f"config key 'datasets.{name}.{key}' only applies to builder 'adapter'. "
                        "Fix: remove it or set builder: adapter"
                    )
            continue
        # the schema's ``vocabulary: adapter`` checked the name
        adapter = ADAPTERS[entry["adapter"]]
        files = {a.file for a in adapter.archives} | {a.key for a in adapter.archives}
        for file in entry.get("archives", {}):
            if file not in files:
                problems.append(
                    f"config key 'datasets.{name}.archives.{file}' is not an archive of adapter "
                    f"'{adapter.name}'. Fix: use one of {', '.join(sorted(a.file for a in adapter.archives))}"
                )
    return problems


def _vendor_problems(config: dict) -> list[str]:
    """Every block under ``vendors:`` other than its own settings must name a commercial system."""
    from maskaudit.vendors import VENDORS

    own = {"cache_dir", "impostors_per_probe"}
    return [
        f"config key 'vendors.{name}': " + unknown_name("vendor", name, "vendors")
        for name in config.get("vendors", {})
        if name not in own and name not in VENDORS
    ]


NAMES_START, NAMES_END = "<!-- names:start -->\n", "<!-- names:end -->"


def documented_names(readme: str) -> str:
    """The generated Names table of ``config/README.md`` (between its markers)."""
    return readme.split(NAMES_START, 1)[1].split(NAMES_END, 1)[0]


def regenerate_names(text: str) -> str:
    """``config/README.md`` with its generated tables rewritten: the Names table and the adapters table."""
    from maskaudit.datasets.adapters import adapter_table

    text = text.replace(NAMES_START + documented_names(text), NAMES_START + vocabulary_markdown())
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("| adapter | dataset |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "".join(lines[:start]) + adapter_table() + "".join(lines[end:])


# python -m maskaudit.config --names: regenerate config/README.md's tables
if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--names"]:
        sys.exit("usage: python -m maskaudit.config --names")
    readme = Path(__file__).resolve().parents[1] / "config/README.md"
    readme.write_text(regenerate_names(readme.read_text(encoding="utf-8")), encoding="utf-8")
