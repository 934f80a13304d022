"""Every adapter through Snakemake: loopback download or manual placement -> extract -> manifest -> sample.

One Snakemake run (``--keep-going``) builds all fixture datasets at once. Direct-download datasets
come from a loopback HTTP server (their archives' URLs and checksums overridden in the config, as
a mirror would be); manual ones are placed in ``downloads.manual_dir``. Three datasets are broken
on purpose: an archive whose first response is cut off (must resume with a Range request), an
archive with a wrong checksum (must fail, never be renamed), and a gated dataset whose archive is
absent (must fail naming the file, the licence page and where to put it).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import REPO
from dataset_fixtures import BUILDERS, EXPECTED, FileServer
from workflow_support import snakemake

from maskaudit.datasets.adapters import ADAPTERS
from maskaudit.datasets.manifest import read_manifest

pytestmark = pytest.mark.integration
TRUNCATED = "fei_original/originalimages_part1.zip"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("datasets")
    served, datasets = {}, {}
    for name, build in BUILDERS.items():
        files = build()
        entry = {"builder": "adapter", "adapter": name}
        if ADAPTERS[name].access == "direct":
            entry["archives"] = {}
            for file, data in files.items():
                served[f"{name}/{file}"] = data
                entry["archives"][file] = {
                    "url": f"{{url}}{name}/{file}",
                    "checksum": "sha256:" + hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                }
            if name == "lfw":  # the attribute file keeps checksum null: recorded on first download
                entry["archives"]["lfw_attributes.txt"] = {"url": "{url}lfw/lfw_attributes.txt"}
        else:  # pinned like a real archive, so the placed file is verified too
            entry["archives"] = {}
            for file, data in files.items():
                (workdir / "manual" / name).mkdir(parents=True, exist_ok=True)
                (workdir / "manual" / name / file).write_bytes(data)
                entry["archives"][file] = {"checksum": "sha256:" + hashlib.sha256(data).hexdigest()}
        datasets[name] = entry
    datasets["fairface"]["sample"] = {"images_per_cell": 1}
    datasets["lfw_badsum"] = {
        "builder": "adapter",
        "adapter": "lfw",
        "archives": {
            "lfw-deepfunneled.tgz": {
                "url": "{url}lfw/lfw-deepfunneled.tgz",
                "checksum": "sha256:" + "0" * 64,
            },
            "lfw_attributes.txt": {"url": "{url}lfw/lfw_attributes.txt"},
        },
    }
    datasets["bfw_missing"] = {"builder": "adapter", "adapter": "bfw"}
    with FileServer(served, truncate={TRUNCATED}) as srv:
        for entry in datasets.values():
            for spec in entry.get("archives", {}).values():
                if "url" in spec:
                    spec["url"] = spec["url"].replace("{url}", srv.url)
        cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
        cfg["datasets"] = datasets
        cfg["downloads"] = {"manual_dir": str(workdir / "manual"), "retries": 2, "timeout_s": 10}
        (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        targets = [f"results/datasets/{d}/manifest.tsv" for d in datasets]
        proc = snakemake(workdir, "--keep-going", *targets, check=False, timeout=900)
    return workdir, proc, srv.requests


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_fixture_becomes_a_valid_manifest(run, name):
    workdir, proc, _ = run
    full = workdir / f"results/datasets/{name}/full.tsv"
    assert full.exists(), proc.stderr[-4000:]
    df = read_manifest(full)
    n_images, n_ids, labels = EXPECTED[name]
    assert len(df) == n_images and df.identity.nunique() == n_ids
    got = df.set_index("image_id")
    for image_id, (gender, race) in labels.items():
        assert (got.at[image_id, "gender"], got.at[image_id, "race"]) == (gender, race)
    assert all(pd.io.common.file_exists(p) for p in df.path)
    report = json.loads((workdir / f"results/datasets/{name}/validation.json").read_text())
    assert report["n_images"] == n_images and set(report["coverage"]) >= {
        "gender",
        "race",
        "identity",
    }
    issues = pd.read_csv(
        workdir / f"results/datasets/{name}/issues.tsv", sep="\t", keep_default_na=False
    )
    assert report["issues"] == issues.kind.value_counts().to_dict()
    sample = read_manifest(workdir / f"results/datasets/{name}/manifest.tsv")
    assert (workdir / f"results/datasets/{name}/sampling.tsv").exists()
    # one image per gender x race cell: male/Asian, female/Latino, female/unknown
    if name == "fairface":
        assert len(sample) == 3
    else:
        assert len(sample) == len(df)


def test_truncated_download_resumed_with_a_range_request(run):
    _, _, requests = run
    got = [r for p, r in requests if p == TRUNCATED]
    assert got[0] is None and got[1] is not None and got[1].startswith("bytes=")


def test_unpinned_checksum_is_recorded(run):
    workdir, _, _ = run
    record = json.loads((workdir / "resources/downloads/lfw/lfw_attributes.txt.json").read_text())
    assert record["pinned"] is False and len(record["sha256"]) == 64


def test_bad_checksum_fails_and_leaves_no_archive(run):
    workdir, proc, _ = run
    assert proc.returncode != 0
    assert not (workdir / "resources/downloads/lfw_badsum/lfw-deepfunneled.tgz").exists()
    assert (workdir / "resources/downloads/lfw_badsum/lfw-deepfunneled.tgz.rejected").exists()
    log = (workdir / "logs/download_archive/lfw_badsum/lfw-deepfunneled.tgz.log").read_text()
    assert "does not match the expected archive" in log and "expected " + "0" * 64 in log


def test_missing_gated_archive_fails_with_instructions(run):
    workdir, proc, _ = run
    assert not (workdir / "results/datasets/bfw_missing/full.tsv").exists()
    text = (
        proc.stderr
        + (workdir / "logs/locate_manual_archive/bfw_missing/BFW-Release.zip.log").read_text()
    )
    assert "BFW-Release.zip" in text and "github.com/visionjo/facerec-bias-bfw" in text
    assert str(workdir / "manual" / "bfw_missing" / "BFW-Release.zip") in text


def test_rerun_does_nothing_for_built_datasets(run):
    workdir, _, _ = run
    proc = snakemake(
        workdir,
        "-n",
        *[f"results/datasets/{d}/manifest.tsv" for d in BUILDERS],
        check=False,
        timeout=900,
    )
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[
        -2000:
    ]


def test_paper_config_resolves_the_study_dag():
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", "config/paper.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rule in (
        "locate_manual_archive",
        "download_archive",
        "extract_archives",
        "build_dataset_manifest",
        "sample_dataset",
        "detect_faces",
        "collect_table",
    ):
        assert rule in proc.stdout
