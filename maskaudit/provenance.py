"""Code provenance: which package modules a workflow script runs, and one hash of their source.

Snakemake reruns a job when its script changes, but not when a ``maskaudit`` module that the
script imports changes. :func:`code_hash` closes that gap: a rule passes the hash of the modules
its script reaches as a ``params`` entry, so editing ``maskaudit/embed.py`` reruns the embedding
jobs and nothing that does not import it.

Reach is found statically, without importing anything: ``import`` statements (absolute and
relative) and string constants naming a module (the model registry's ``"pkg.module:factory"``
entries), followed transitively inside the package. Importing ``a.b.c`` also runs ``a/__init__.py``
and ``a/b/__init__.py``, so those count too. The modules in :data:`LOG_ONLY` only measure the job for its
log (the USAGE record); they are left out, so editing them reruns nothing.
Any other edit to a reached module, comments included, changes the hash.
"""

from __future__ import annotations

import ast
import hashlib
import re
from functools import cache
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
# measures the job (maskaudit/usage.py), never touches data
LOG_ONLY = frozenset({"maskaudit.usage"})
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+(:\w+)?$")


def _module_file(name: str, root: Path, package: str) -> Path | None:
    """The source file of dotted module ``name`` inside ``package`` (rooted at ``root``), if any."""
    parts = name.split(".")
    if parts[0] != package:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, root: Path, package: str) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [package, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _referenced(path: Path, current: str | None) -> set[str]:
    """Dotted names ``path`` imports or names in a string constant (``current``: its own module name)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level and current:
                is_pkg = path.name == "__init__.py"
                anchor = current.split(".")[
                    : len(current.split(".")) - node.level + (1 if is_pkg else 0)
                ]
                module = ".".join([*anchor, module] if module else anchor)
            names.add(module)
            # `from pkg import submodule`
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _DOTTED.match(node.value)
        ):
            names.add(node.value.split(":")[0])
    return names


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def reached_modules(
    script: str | Path, *, root: Path = PACKAGE_ROOT, package: str = "maskaudit"
) -> list[Path]:
    """Every source file of ``package`` that running ``script`` can execute, sorted."""
    seen: set[Path] = set()
    todo = [(Path(script), None)]
    while todo:
        path, current = todo.pop()
        for name in _referenced(path, current):
            for dotted in _with_parents(name):
                if dotted in LOG_ONLY:
                    continue
                file = _module_file(dotted, root, package)
                if file is not None and file not in seen:
                    seen.add(file)
                    todo.append((file, _module_name(file, root, package)))
    return sorted(seen)


@cache
def _code_hash(script: Path, root: Path, package: str) -> str:
    digest = hashlib.sha256()
    for file in reached_modules(script, root=root, package=package):
        digest.update(
            file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0"
        )
    return digest.hexdigest()[:16]


def code_hash(script: str | Path, *, root: Path = PACKAGE_ROOT, package: str = "maskaudit") -> str:
    """A short SHA-256 over the path and bytes of every package module ``script`` reaches."""
    return _code_hash(Path(script).resolve(), Path(root).resolve(), package)
