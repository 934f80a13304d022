"""The figure recipe (README, "Adding a figure"), followed for a toy figure in a copy of the tree.

One registry entry in workflow/rules/common.smk, one plotting function, one thin script and a caption:
the rule, the named target `figure_toy`, its place in `rule all` and on the findings page come from
the registry. The toy figure (identities per gender, from the dataset manifest) is built for real.
"""

import shutil
import subprocess
import sys

import pytest
from conftest import REPO
from PIL import Image
from workflow_support import write_config

pytestmark = pytest.mark.integration

ENTRY = """FIGURES = {
    "toy": figure(
        "dataset",
        {"manifest": "results/datasets/{dataset}/manifest.tsv"},
        "identities per gender",
    ),
"""

PLOT = '''

def toy(manifest: pd.DataFrame) -> plt.Figure:
    """Identities per gender (the figure recipe's test)."""
    counts = manifest.groupby("gender").identity.nunique()
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(counts.index, counts.to_numpy())
    ax.set_ylabel("identities")
    return fig
'''

SCRIPT = '''"""Figure: identities per gender (toy)."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.plots import save, toy
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
save(toy(read_manifest(snakemake.input.manifest)), snakemake.output.figure)
'''


def snakemake(tree, workdir, *args):
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(tree / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "1",
        *args,
        "--configfile",
        str(workdir / "config.yaml"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the code with the toy figure added by the recipe's steps."""
    tree = tmp_path_factory.mktemp("tree")
    skip = shutil.ignore_patterns("__pycache__", ".snakemake", "results", "logs")
    for name in ["Snakefile", "workflow", "maskaudit", "config", "profiles"]:
        src = REPO / name
        (
            shutil.copytree(src, tree / name, ignore=skip)
            if src.is_dir()
            else shutil.copy(src, tree / name)
        )
    common = tree / "workflow/rules/common.smk"
    text = common.read_text()
    assert text.count("FIGURES = {\n") == 1
    common.write_text(text.replace("FIGURES = {\n", ENTRY))
    with open(tree / "maskaudit/plots/__init__.py", "a") as fh:
        fh.write(PLOT)
    (tree / "workflow/scripts/plot_toy.py").write_text(SCRIPT)
    (tree / "workflow/report/toy.rst").write_text(
        "Identities per gender in dataset {{ snakemake.wildcards.dataset }}.\n"
    )
    return tree


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("work")
    write_config(workdir)
    cached = REPO / "resources/downloads/demo"
    if cached.is_dir():
        shutil.copytree(
            cached,
            workdir / "resources/downloads/demo",
            ignore=shutil.ignore_patterns("downloads.tsv"),
        )
    return workdir


def test_the_registry_entry_makes_the_rule_the_target_and_the_outputs(tree, workdir):
    out = snakemake(tree, workdir, "--dry-run", "figure_toy")
    assert "rule plot_toy:" in out and "results/figures/toy/demo.png" in out
    everything = snakemake(tree, workdir, "--dry-run")
    all_block = everything.split("rule all:")[1].split("\n\n")[0]
    assert "results/figures/toy/demo.png" in all_block  # rule all builds it
    page = everything.split("rule render_audit_report:")[1].split("\n\n")[0]
    assert "results/figures/toy/demo.png" in page  # the findings page links it
    assert "rule plot_toy:" not in snakemake(REPO, workdir, "--dry-run")  # only in the copy
    lint = snakemake(tree, workdir, "--lint")
    assert "Congratulations" in lint


def test_the_toy_figure_is_built(tree, workdir):
    snakemake(tree, workdir, "figure_toy")
    with Image.open(workdir / "results/figures/toy/demo.png") as png:
        assert png.format == "PNG" and png.size[0] > 100
    assert (workdir / "logs/plot_toy/demo.log").is_file()
