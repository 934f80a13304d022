"""The demo audit that every workflow test shares (the session fixture ``audit`` in conftest.py).

One Snakemake run of the embedded demo (three mask variants, dlib only, to keep CI short) in a
temporary directory. Tests that change its config restore it before they return, so the run can be
shared by every test file that asks for ``audit``.
"""

import re
import shutil
import subprocess
import sys

import pandas as pd
import yaml
from conftest import REPO

VARIANTS = ["surgical-blue", "n95-skin_dark", "cloth-white"]


def snakemake(workdir, *args, env=None, config="config.yaml", check=True, timeout=1800):
    """Run the workflow in ``workdir`` with its ``config`` (2 cores); ``check``: a failure raises with the
    end of both logs. ``--cores`` follows ``--configfile`` (which takes several files), so ``args`` may
    start with a target or hold ``--`` before targets."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / config),
        "--cores",
        "2",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def seed_downloads(workdir):
    """Reuse the demo archives a `make demo` already fetched (pip re-checks them); none: downloaded."""
    cached = REPO / "resources/downloads/demo"
    if cached.is_dir():
        shutil.copytree(
            cached,
            workdir / "resources/downloads/demo",
            ignore=shutil.ignore_patterns("downloads.tsv"),
        )


def write_config(workdir, edit=None):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["datasets"]["demo"]["sources"] = str(REPO / "config/datasets/demo.yaml")
    # the committed synthetic responses
    cfg["survey"]["responses"] = str(REPO / cfg["survey"]["responses"])
    cfg["masks"]["variants"] = {k: v for k, v in cfg["masks"]["variants"].items() if k in VARIANTS}
    # one model keeps this test short; tests/workflow/test_embedding_workflow.py runs both
    cfg["models"] = ["dlib"]
    # one mitigation head keeps it short too; tests/workflow/test_mitigation.py trains all three losses on its caches
    cfg["mitigation"]["losses"] = ["contrastive"]
    if edit:
        edit(cfg)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def planned_jobs(workdir) -> dict[str, int]:
    out = snakemake(workdir, "--dry-run").stdout
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M)
        if m.group(1) != "total"
    }


def run_demo_audit(workdir):
    write_config(workdir)
    seed_downloads(workdir)
    snakemake(workdir)
    return workdir


def read(workdir, table):
    return pd.read_csv(
        workdir / f"results/tables/{table}.tsv", sep="\t", keep_default_na=False, na_values=["NaN"]
    )
