"""pyproject.toml declares what requirements.txt pins: the same distributions, each pin inside its range.

requirements.txt (exact pins, what the Makefile and CI install) and pyproject.toml (ranges, what
`pip install maskaudit[...]` resolves) must not drift apart: a distribution added to one and not the
other, or a pin bumped outside its declared range, fails here. requirements-nodeps.txt holds what must
be installed with --no-deps and is therefore never declared in pyproject.toml.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def pins(path) -> dict[str, str]:
    """{canonical name: pinned version} of a requirements file (every line must be an exact pin)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {line!r} is not an exact pin"
        out[canonicalize_name(req.name)] = spec.version
    return out


def declared() -> dict[str, Requirement]:
    """{canonical name: requirement} over pyproject's dependencies and every extra (self-references skipped)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    out = {}
    for line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name == "maskaudit":
            continue
        assert name not in out, f"pyproject.toml declares {req.name} twice"
        out[name] = req
    return out


PINS = pins(REPO / "requirements.txt")
NODEPS = pins(REPO / "requirements-nodeps.txt")
DECLARED = declared()


def test_same_distributions():
    assert set(PINS) - set(DECLARED) == set(), (
        "pinned in requirements.txt but not declared in pyproject.toml"
    )
    assert set(DECLARED) - set(PINS) == set(), (
        "declared in pyproject.toml but not pinned in requirements.txt"
    )


@pytest.mark.parametrize("name", sorted(PINS))
def test_pin_inside_declared_range(name):
    req = DECLARED[name]
    assert req.specifier.contains(PINS[name], prereleases=True), (
        f"requirements.txt pins {name}=={PINS[name]}, outside pyproject.toml's {req}"
    )


def test_nodeps_never_declared():
    assert NODEPS, "requirements-nodeps.txt is empty"
    assert not set(NODEPS) & set(DECLARED), (
        "a --no-deps distribution would be resolved with its dependencies"
    )


def test_all_extra_covers_every_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = set(project["optional-dependencies"]) - {"all", "test"}
    (everything,) = project["optional-dependencies"]["all"]
    listed = set(re.search(r"\[(.*)\]", everything).group(1).split(","))
    assert listed == extras
