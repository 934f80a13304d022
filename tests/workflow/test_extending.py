"""docs/extending.md's recipes, followed in a copy of the code: a toy model, mask kind, dataset adapter
and vendor, each one registry entry plus its own module, planned (and partly run) by the demo's DAG.

:func:`copy_tree` and :func:`add_toys` are the helpers other recipe tests (the toy figure) build on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CODE = ("maskaudit", "workflow", "config")


def copy_tree(dst: Path, *, resources: bool = False) -> Path:
    """Copy what a workflow run needs (``maskaudit/``, ``workflow/``, ``Snakefile``, ``config/``) to ``dst``.

    ``resources``: also link the checkout's downloaded demo packages (``resources/downloads``) and
    weights, read-only inputs, so a real run of the demo's first stages needs no network."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for name in CODE:
        shutil.copytree(
            REPO / name, dst / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy2(REPO / "Snakefile", dst / "Snakefile")
    if resources:
        (dst / "resources").mkdir()
        for name in ("downloads", "weights"):
            if (REPO / "resources" / name).is_dir():
                shutil.copytree(REPO / "resources" / name, dst / "resources" / name)
    return dst


def edit(path: Path, anchor: str, text: str, *, before: bool = True) -> None:
    """Insert ``text`` next to ``anchor`` (which must occur once) in ``path``: a registry entry."""
    source = path.read_text()
    assert source.count(anchor) == 1, f"{path}: the recipe's anchor {anchor!r} is not there once"
    path.write_text(source.replace(anchor, text + anchor if before else anchor + text))


# --- the toys, each following its recipe in docs/extending.md -------------------------------------

TOY_MODEL = '''"""A toy embedder: block means of the face, a fixed seeded projection (no weights, deterministic)."""

import numpy as np

from maskaudit.models.base import EmbeddingModel

WEIGHT_FILES = ()  # nothing to fetch


class ToyEmbedder(EmbeddingModel):
    def _load(self):
        self.projection = np.random.default_rng(7).standard_normal((4 * 4 * 3, self.card.dim)).astype(np.float32)

    def _forward(self, batch):
        n, h, w, _ = batch.shape
        blocks = batch[:, : h // 4 * 4, : w // 4 * 4].reshape(n, 4, h // 4, 4, w // 4, 3).mean(axis=(2, 4))
        return blocks.reshape(n, -1) @ self.projection

    def _versions(self):
        return {"engine": "numpy", "device": "cpu"}
'''

TOY_MODEL_CARD = """        ModelCard(
            id="toy", name="toy block-mean embedder", dim=16, metric="cosine", threshold=0.3,
            threshold_source="made up (a test)", factory="maskaudit.models.toy:ToyEmbedder", family="dlib",
            input_size=(32, 32), normalization="base", mem_mb=500, threads=1,
        ),
"""

TOY_MASK_KIND = """    "toy": {"k": 1.0, "drop": 0.3, "side": 0.03, "chin": 0.1, "box": 0.0, "width": 0.9,
            "fixing": None, "cartridges": False, "relief": "cloth"},
"""

TOY_ADAPTER = '''"""A toy dataset: <identity>_<gender>_<n>.jpg files in one archive."""

from pathlib import Path

from maskaudit.datasets.adapters.base import Adapter, Read, frame, image_files, issue, safe_id
from maskaudit.datasets.download import Archive


def read(root: Path) -> Read:
    rows, issues = [], []
    for rel in image_files(root):
        parts = rel.stem.split("_")
        if len(parts) != 3:
            issues.append(issue("unparsable_name", safe_id(rel.stem), "path", rel.name, "expected <id>_<m|f>_<n>"))
            continue
        rows.append({"image_id": safe_id(rel.stem), "path": rel.as_posix(), "identity": parts[0],
                     "gender_original": parts[1]})
    return Read(frame(rows), issues)


ADAPTER = Adapter(
    name="toyset", title="Toy faces", homepage="https://example.org/toy", licence="CC0",
    licence_url="https://creativecommons.org/publicdomain/zero/1.0/", access="direct",
    archives=(Archive("toy.zip", "https://example.org/toy/toy.zip"),), labels="identity, gender",
    size="a few images", identities="yes", read=read, gender_map={"m": "male", "f": "female"},
)
'''

TOY_VENDOR = '''"""A toy commercial system: scores from a local function, no network (credentials: none needed)."""

from maskaudit.vendors.base import Adapter


class ToyVendor(Adapter):
    vendor = "toyvendor"
    has_search = False
    raw_direction = "higher_is_same"

    def endpoint(self):
        return "local://toy"

    def model_version(self):
        return "toy-1"

    def compare(self, probe, reference):
        return self.client.call("compare", lambda: {"similarity": 0.5}, key=self.compare_key(probe, reference))


def credentials_message(settings):
    return None
'''

TOY_VENDOR_CARD = """        ModelCard(
            id="toyvendor", name="Toy vendor (similarity 0-1)", dim=0, metric="similarity", threshold=0.5,
            kind="comparison", factory="maskaudit.vendors.toyvendor:ToyVendor", threshold_source="made up (a test)",
        ),
"""


def add_toys(root: Path) -> None:
    """Follow each recipe of docs/extending.md in the copy at ``root``."""
    pkg = root / "maskaudit"
    # a model: its module, one card in the registry
    (pkg / "models/toy.py").write_text(TOY_MODEL)
    edit(pkg / "models/__init__.py", "        # Comparison-only systems", TOY_MODEL_CARD)
    # a mask kind: one entry in MASK_KIND_SHAPES (it reuses the cloth surface, so no module of its own)
    edit(pkg / "masks/geometry.py", "}\nMASK_KINDS = tuple(MASK_KIND_SHAPES)", TOY_MASK_KIND)
    # a dataset adapter: its module, one entry in ADAPTERS
    (pkg / "datasets/adapters/toyset.py").write_text(TOY_ADAPTER)
    edit(
        pkg / "datasets/adapters/__init__.py",
        "    utkface,\n    youtube_faces,\n)",
        "    toyset,\n",
        before=True,
    )
    edit(
        pkg / "datasets/adapters/__init__.py",
        "    mlfw.ADAPTER,\n",
        "    toyset.ADAPTER,\n",
        before=False,
    )
    # a vendor: its module, one card (kind "comparison") in the registry
    (pkg / "vendors/toyvendor.py").write_text(TOY_VENDOR)
    edit(pkg / "models/__init__.py", "    ]\n}\n\nKINDS", TOY_VENDOR_CARD)
    # every recipe ends by regenerating the documented names
    subprocess.run(
        [sys.executable, "-m", "maskaudit.config", "--names"],
        cwd=root,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def toy_config(root: Path, *, dataset: bool = True, vendor: bool = True) -> Path:
    """The demo config with the toys added: model, vendor, a variant of the toy kind, the toy dataset."""
    cfg = yaml.safe_load((root / "config/config.yaml").read_text())
    cfg["models"] = cfg["models"] + ["toy"] + (["toyvendor"] if vendor else [])
    cfg["masks"]["variants"]["toy-blue"] = {"kind": "toy", "colour": "blue"}
    if dataset:
        cfg["datasets"]["toys"] = {"builder": "adapter", "adapter": "toyset"}
    path = root / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def snakemake(root: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [SNAKEMAKE, "--configfile", "toy.yaml", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def toy_tree(tmp_path_factory):
    root = copy_tree(tmp_path_factory.mktemp("extending") / "repo")
    add_toys(root)
    toy_config(root)
    return root


def test_the_toys_are_documented_names(toy_tree):
    names = (toy_tree / "config/README.md").read_text()
    for noun, name in (
        ("model", "toy"),
        ("vendor", "toyvendor"),
        ("mask kind", "toy"),
        ("dataset adapter", "toyset"),
    ):
        row = next(line for line in names.splitlines() if line.startswith(f"| {noun} |"))
        assert f"`{name}`" in row
    # the adapters table too
    assert "| `toyset` | [Toy faces](https://example.org/toy) | direct |" in names


def test_the_demo_dag_plans_every_toy(toy_tree):
    proc = snakemake(toy_tree, "-n", "--cores", "1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for path in (
        "results/masked/demo/toy-blue/manifest.tsv",  # the toy mask kind renders
        "results/embeddings/toy/demo/toy-blue.npz",  # the toy model embeds it
        "results/scores/toy/demo/toy-blue/verification.tsv",  # and is scored like any system
        "results/comparisons/toyvendor/demo/toy-blue.npz",  # the toy vendor is asked
        "results/scores/toyvendor/demo/none/verification.tsv",
        "results/datasets/toys/manifest.tsv",  # the toy dataset is read by its adapter
        "results/embeddings/toy/toys/toy-blue.npz",
        "results/metrics/toy/toys/rates.tsv",
    ):
        assert path in out, f"{path} is not planned"


def test_a_misspelt_toy_is_refused_with_the_nearest_name(toy_tree):
    cfg = yaml.safe_load((toy_tree / "toy.yaml").read_text())
    cfg["masks"]["variants"]["toy-blue"]["kind"] = "toi"
    (toy_tree / "bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "--configfile", "bad.yaml"],
        cwd=toy_tree,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(toy_tree)},
        timeout=600,
    )
    assert proc.returncode != 0
    assert (
        "unknown mask kind 'toi' in masks.variants.toy-blue.kind; did you mean 'toy'?"
        in proc.stdout + proc.stderr
    )


def test_a_real_run_embeds_the_toy_mask_kind_with_the_toy_model_and_scores_it(tmp_path):
    """The cheap part of the demo, run for real (about a minute): demo dataset, landmarks, the toy mask
    kind rendered, the toy model's vectors and its verification scores."""
    root = copy_tree(tmp_path / "repo", resources=True)
    add_toys(root)
    toy_config(root, dataset=False, vendor=False)
    target = "results/scores/toy/demo/toy-blue/verification.tsv"
    proc = snakemake(root, "--cores", "2", target)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    masked = (root / "results/masked/demo/toy-blue/manifest.tsv").read_text().splitlines()
    header = masked[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in masked[1:]]
    assert rows and {r["kind"] for r in rows} == {"toy"}
    assert sum(r["status"] == "ok" and r["placement_ok"] == "True" for r in rows) >= len(rows) - 2
    cache = np.load(root / "results/embeddings/toy/demo/toy-blue.npz")
    ok = cache["status"] == "ok"
    assert (
        cache["vectors"].shape[1] == 16
        and ok.sum() >= len(ok) - 2
        and np.isfinite(cache["vectors"][ok]).all()
    )
    baseline = np.load(root / "results/embeddings/toy/demo/none.npz")
    # the mask changes the toy's vectors
    assert not np.allclose(cache["vectors"][ok], baseline["vectors"][ok])
    scores = (root / target).read_text().splitlines()
    assert len(scores) > 1 and "\ttoy\tblue\t" in scores[1]
