"""The survey bundle: what the web app serves, and nothing it must not.

``bundle/trials.json`` lists each trial's id and opaque image names; ``bundle/images/`` holds one
copy of every image a trial shows, named by a hash of (seed, trial id, slot), so a file name never
reveals an image id, an identity, a variant, whether a trial has a mate, or that two trials share a
picture. The answer key (``key.tsv``) stays out of the bundle: the server never holds the ground
truth, so it cannot show it to anyone.

``trials.json``: ``{"format": 1, "dataset", "build": <hash of the trial list>, "candidates": K,
"trials": [{"id", "probe", "candidates": [...]}, ...]}`` in key order (the app shuffles per participant).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd

FORMAT = 1
TOKEN = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")


def token(seed: int, trial: str, slot: str, suffix: str) -> str:
    digest = hashlib.sha256(f"{seed}\x1f{trial}\x1f{slot}".encode()).hexdigest()[:32]
    return f"{digest}.{'png' if suffix.lower() == '.png' else 'jpg'}"


def write_bundle(
    key: pd.DataFrame,
    image_paths: dict[str, dict[str, Path]],
    out: Path,
    *,
    seed: int,
    dataset: str,
    candidates: int,
) -> dict:
    """Copy each trial's images under opaque names and write ``trials.json``; returns the document.

    ``image_paths``: variant -> image id -> file (the probe's variant for probes, ``none`` for candidates).
    """
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "images").mkdir(parents=True)
    trials = []
    for row in key.itertuples():
        probe_src = image_paths[row.variant][row.probe_id]
        probe = token(seed, row.trial_id, "probe", probe_src.suffix)
        shutil.copyfile(probe_src, out / "images" / probe)
        names = []
        for j, image in enumerate(str(row.candidate_ids).split(";")):
            src = image_paths["none"][image]
            names.append(token(seed, row.trial_id, f"c{j}", src.suffix))
            shutil.copyfile(src, out / "images" / names[-1])
        trials.append({"id": row.trial_id, "probe": probe, "candidates": names})
    build = hashlib.sha256(json.dumps(trials, sort_keys=True).encode()).hexdigest()[:16]
    doc = {
        "format": FORMAT,
        "dataset": dataset,
        "build": build,
        "candidates": candidates,
        "trials": trials,
    }
    (out / "trials.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return doc


def load_bundle(folder: Path) -> dict:
    """Read and check ``trials.json`` (never trusted: every name must be a token whose file exists)."""
    folder = Path(folder)
    path = folder / "trials.json"
    if not path.is_file():
        raise ValueError(f"{path} not found: build the survey first (snakemake survey_trials)")
    doc = json.loads(path.read_text())
    if doc.get("format") != FORMAT or not isinstance(doc.get("trials"), list) or not doc["trials"]:
        raise ValueError(f"{path}: not a survey bundle of format {FORMAT} with at least one trial")
    ids = set()
    for t in doc["trials"]:
        if not re.fullmatch(r"t[0-9a-f]{12}", str(t.get("id"))) or t["id"] in ids:
            raise ValueError(f"{path}: bad or repeated trial id {t.get('id')!r}")
        ids.add(t["id"])
        names = [t.get("probe"), *t.get("candidates", [])]
        if len(names) != 1 + int(doc["candidates"]):
            raise ValueError(
                f"{path}: trial {t['id']} does not have {doc['candidates']} candidates"
            )
        for n in names:
            if (
                not isinstance(n, str)
                or not TOKEN.match(n)
                or not (folder / "images" / n).is_file()
            ):
                raise ValueError(
                    f"{path}: trial {t['id']} names a missing or malformed image {n!r}"
                )
    return doc
