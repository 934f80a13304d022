"""Shared fixtures. Real faces come from packages installed with the workflow (never committed).

Layout: tests/unit (the package, no Snakemake run), tests/workflow (Snakemake runs and dry runs, the demo
audit, SLURM, the vendors on the wire), tests/support (fixtures, fake servers and daemons they share,
importable by name from every test)."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# support modules, and test modules that share helpers across the two folders (test_verdicts uses
# test_stats' toy audit), import by name whichever folder pytest collects first
for _folder in ("support", "unit", "workflow"):
    sys.path.insert(0, str(REPO / "tests" / _folder))


@pytest.fixture(scope="session")
def hopper_path() -> Path:
    """Grace Hopper's portrait, shipped with matplotlib (a workflow dependency)."""
    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


@pytest.fixture(scope="session")
def hopper_rgb(hopper_path) -> np.ndarray:
    return np.asarray(Image.open(hopper_path).convert("RGB"))


@pytest.fixture(scope="session")
def detector():
    from maskaudit.detect import FaceDetector

    return FaceDetector()


@pytest.fixture(scope="session")
def dlib_model():
    from maskaudit.models import load_model

    return load_model("dlib")


@pytest.fixture(scope="session")
def audit(tmp_path_factory):
    """The demo audit run once by Snakemake (tests/support/workflow_support.py), shared by every workflow test.

    A test that edits its config or outputs restores them before it returns."""
    from workflow_support import run_demo_audit

    return run_demo_audit(tmp_path_factory.mktemp("audit"))
