"""Code provenance: a script's hash follows exactly the package modules it can run."""

from pathlib import Path

import pytest
from conftest import REPO

from maskaudit.provenance import _code_hash, code_hash, reached_modules


@pytest.fixture
def pkg(tmp_path):
    """A package ``pkg`` with: a -> b (relative), b -> nothing, c unrelated, reg naming d by string."""
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from .sub import b\n",
        "sub/__init__.py": "X = 1\n",
        "sub/b.py": "import os\n",
        "c.py": "",
        "reg.py": "FACTORY = 'pkg.d:Model'\n",
        "d.py": "",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    script = tmp_path / "script.py"
    script.write_text("from pkg.a import thing\nfrom pkg import reg\n")
    return root, script


def _hash(pkg):
    root, script = pkg
    _code_hash.cache_clear()  # one workflow run hashes each script once; this test edits in between
    return code_hash(script, root=root, package="pkg")


def test_reach_follows_relative_imports_parents_and_registry_strings(pkg):
    root, script = pkg
    reached = {
        p.relative_to(root).as_posix() for p in reached_modules(script, root=root, package="pkg")
    }
    assert reached == {"__init__.py", "a.py", "reg.py", "sub/__init__.py", "sub/b.py", "d.py"}


@pytest.mark.parametrize(
    "edited, changes",
    [("sub/b.py", True), ("d.py", True), ("sub/__init__.py", True), ("c.py", False)],
)
def test_hash_changes_exactly_when_a_reached_module_changes(pkg, edited, changes):
    root, _ = pkg
    before = _hash(pkg)
    (root / edited).write_text((root / edited).read_text() + "# edit\n")
    assert (_hash(pkg) != before) is changes


def test_every_workflow_script_reaches_real_modules():
    scripts = sorted((REPO / "workflow/scripts").glob("*.py"))
    assert scripts
    for script in scripts:
        reached = reached_modules(script)
        assert reached, f"{script.name} reaches no maskaudit module"
        assert all(Path(p).is_file() for p in reached)
