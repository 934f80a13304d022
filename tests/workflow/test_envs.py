"""The per-rule conda envs (workflow/envs/*.yaml) hold what their rules import, proven without conda.

For every env file, a fresh virtualenv (no system site-packages) gets only that env's pip section.
Then every rule that uses the env has the import statements of its script executed in that venv,
with the repository on PYTHONPATH: every maskaudit module a script imports, and everything those
import at module level, must resolve from the env alone. An env that lacks a dependency, or a module
that imports a heavy library its rule does not need (dlib in a plotting rule), fails here.

Rules are read from workflow/rules/*.smk, so new rules and envs are covered without editing this
file. A rule whose `conda:` is a function (e.g. one env per model) is checked against every env
file no rule names literally. The pins themselves must agree with requirements.txt.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import REPO

ENVS = sorted((REPO / "workflow/envs").glob("*.yaml"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_section(env: Path) -> list[str]:
    deps = yaml.safe_load(env.read_text())["dependencies"]
    return [spec for dep in deps if isinstance(dep, dict) for spec in dep.get("pip", [])]


def pins(specs: list[str]) -> dict[str, str]:
    out = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        assert sep and version.strip(), f"'{spec}' is not an exact pin (name==version)"
        out[canonical(name.strip())] = version.strip()
    return out


def requirement_pins() -> dict[str, str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    specs = [line.split("#")[0].strip() for line in lines]
    return pins([s for s in specs if s])


def rules_with_envs() -> list[tuple[str, str | None, str]]:
    """(rule, env file name or None when not a literal, script path) for every rule with a script."""
    out = []
    for smk in sorted((REPO / "workflow/rules").glob("*.smk")):
        for block in re.split(r"^(?=rule \w+:)", smk.read_text(), flags=re.M):
            name = re.match(r"rule (\w+):", block)
            script = re.search(r"^    script:\s*\n\s+\"([^\"]+)\"", block, re.M)
            if not name or not script:
                continue
            conda = re.search(r"^    conda:\s*\n\s+(\S.*)$", block, re.M)
            assert conda, f"rule {name.group(1)} has no conda: directive"
            literal = re.fullmatch(r"\"(?:\.\./)?envs/([^\"]+)\"", conda.group(1).strip())
            script_path = (smk.parent / script.group(1)).resolve()
            out.append((name.group(1), literal.group(1) if literal else None, str(script_path)))
    return out + figure_rules()


def figure_rules() -> list[tuple[str, str, str]]:
    """The rules figures.smk generates from common.smk's FIGURES registry: `plot_<name>` running
    workflow/scripts/plot_<name>.py in the entry's `env` (default: figure()'s)."""
    common = (REPO / "workflow/rules/common.smk").read_text()
    default = re.search(r"^def figure\(.*?env=\"(\w+)\"", common, re.M | re.S).group(1)
    registry = common[common.index("\nFIGURES = {") :]
    registry = registry[: registry.index("\n}\n")]
    out = []
    for block in re.split(r'^(?=    "\w+": figure\()', registry, flags=re.M)[1:]:
        name = re.match(r'    "(\w+)": figure\(', block).group(1)
        env = re.search(r'^\s+env="(\w+)"', block, re.M)
        script = REPO / f"workflow/scripts/plot_{name}.py"
        out.append((f"plot_{name}", f"{env.group(1) if env else default}.yaml", str(script)))
    return out


def env_checks() -> dict[str, list[tuple[str, str]]]:
    """env file name -> [(rule, script)] that must run in it."""
    rules = rules_with_envs()
    named = {env for _, env, _ in rules if env}
    orphans = [e.name for e in ENVS if e.name not in named]
    checks: dict[str, list[tuple[str, str]]] = {e.name: [] for e in ENVS}
    for rule, env, script in rules:
        for target in [env] if env else orphans:
            checks[target].append((rule, script))
    return checks


def import_code(script: str) -> str:
    """The script's import statements (wherever they are), as one program."""
    tree = ast.parse(Path(script).read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return "\n".join(ast.unparse(n) for n in imports)


def test_rules_are_found():
    rules = rules_with_envs()
    assert {"detect_faces", "mask_images", "embed_images", "plot_mask_gallery"} <= {
        r for r, _, _ in rules
    }
    figures = {r: env for r, env, _ in figure_rules()}
    assert figures["plot_face_chips"] == "detect.yaml" and figures["plot_det"] == "analysis.yaml"
    assert len(figures) == 10 and all(Path(s).is_file() for _, _, s in figure_rules())
    for rule, env, script in rules:
        assert Path(script).is_file(), f"rule {rule}: {script} missing"
        assert env is None or (REPO / "workflow/envs" / env).is_file(), (
            f"rule {rule}: env {env} missing"
        )


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_env_pins_agree_with_requirements(env):
    required = requirement_pins()
    spec = yaml.safe_load(env.read_text())
    assert "python=3.11" in spec["dependencies"], f"{env.name}: pin python=3.11 like the venv"
    env_pins = pins(pip_section(env))
    assert env_pins, f"{env.name} has no pip section"
    for name, version in env_pins.items():
        assert name in required, f"{env.name}: {name} is not in requirements.txt"
        assert required[name] == version, (
            f"{env.name}: {name}=={version}, requirements.txt: {required[name]}"
        )


def build_venv(env: Path, root: Path) -> Path:
    target = root / env.stem
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(target)
    python = target / "bin" / "python"
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            *pip_section(env),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"pip install of {env.name}'s pip section failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return python


@pytest.fixture(scope="session")
def env_pythons(tmp_path_factory):
    """One fresh venv per env file, built two at a time (pip's cache keeps this to seconds per env)."""
    root = tmp_path_factory.mktemp("envs")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {env.name: pool.submit(build_venv, env, root) for env in ENVS}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.integration
@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_env_runs_its_rules_imports(env, env_pythons, tmp_path):
    python = env_pythons[env.name]
    checks = env_checks()[env.name]
    assert checks, f"{env.name} is used by no rule: delete it or use it"
    isolated = {
        "PYTHONPATH": str(REPO),
        "PYTHONNOUSERSITE": "1",
        "PATH": "/usr/bin:/bin",
        "MPLBACKEND": "Agg",
    }
    probe = "import sys; print(sys.prefix)"
    prefix = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, env=isolated
    ).stdout.strip()
    assert Path(prefix) != Path(sys.prefix), "the check must not run in the test's own environment"
    for rule, script in checks:
        done = subprocess.run(
            [str(python), "-c", import_code(script)],
            capture_output=True,
            text=True,
            env=isolated,
            cwd=tmp_path,
            timeout=600,
        )
        assert done.returncode == 0, (
            f"rule {rule} ({Path(script).name}) cannot import in {env.name} alone:\n{done.stderr[-3000:]}"
        )
