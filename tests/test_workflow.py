"""The whole workflow on the embedded demo, run by Snakemake in a temporary directory.

One run (three mask variants, to keep CI short) feeds every check: table contents, a second run
that does nothing, byte-identical tables after recomputation, a config edit that reruns only what
depends on it, a single-table target, the HTML report, and a bad config key.
"""

import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.integration
VARIANTS = ["surgical-blue", "n95-skin_dark", "cloth-white"]


def snakemake(workdir, *args, check=True):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", "--configfile", str(workdir / "config.yaml"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def write_config(workdir, edit=None):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["datasets"]["demo"]["sources"] = str(REPO / "config/datasets/demo.yaml")
    cfg["masks"]["variants"] = {k: v for k, v in cfg["masks"]["variants"].items() if k in VARIANTS}
    if edit:
        edit(cfg)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def planned_jobs(workdir) -> dict[str, int]:
    out = snakemake(workdir, "--dry-run").stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M) if m.group(1) != "total"}


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("audit")
    write_config(workdir)
    cached = REPO / "resources/downloads/demo"
    if cached.is_dir():  # reuse archives a `make demo` already fetched; pip re-checks them
        shutil.copytree(cached, workdir / "resources/downloads/demo", ignore=shutil.ignore_patterns("downloads.tsv"))
    snakemake(workdir)
    return workdir


def read(workdir, table):
    return pd.read_csv(workdir / f"results/tables/{table}.tsv", sep="\t", keep_default_na=False, na_values=["NaN"])


def test_tables_have_expected_contents(audit):
    overall = read(audit, "overall").set_index("variant")
    assert sorted(overall.index) == sorted(["none", *VARIANTS])
    assert (overall.n_images == 15).all() and (overall.n_genuine == 35).all() and (overall.n_impostor == 75).all()
    assert overall.loc["none", "fta_genuine"] == 0  # every demo face is acquired
    for v in VARIANTS:  # hanks_1 (a 112 px crop) ends above the chin: a counted mask failure, not a pass
        masked = pd.read_csv(audit / f"results/masked/demo/{v}/manifest.tsv", sep="\t", keep_default_na=False)
        assert masked.set_index("image_id").status.to_dict()["hanks_1"] == "mask_partial_out_of_frame"
        assert (masked.status == "ok").sum() == 14
        assert 0 < overall.loc[v, "fta_genuine"] < 0.2
    base = overall.loc["none"]
    assert base.p1_accuracy == 1 and base.fnmr == 0 and base.rank1 == 1  # unmasked: the image itself is in the gallery
    for v in VARIANTS:  # masks never make the genuine pairs look more alike than no mask
        assert overall.loc[v, "fnmr"] >= base.fnmr and overall.loc[v, "eer"] >= base.eer
    assert overall.loc[VARIANTS, "fnmr"].max() > 0  # masks do hurt
    race = read(audit, "by_race")
    assert set(race.group) == {"Black", "White"}
    assert race.groupby("group").n_images.first().to_dict() == {"Black": 5, "White": 10}
    gender = read(audit, "by_gender")
    assert gender.groupby("group").n_images.first().to_dict() == {"female": 2, "male": 7, "unknown": 6}
    inter = read(audit, "by_gender_race")
    assert "male/Black" in set(inter.group) and (inter.n_genuine <= 35).all()
    acq = pd.read_csv(audit / "results/faces/demo/acquisition.tsv", sep="\t")
    assert (acq.status == "ok").sum() == 15
    for fig in ["accuracy_by_variant/dlib.demo.png", "score_distributions/dlib.demo.png", "mask_gallery/demo.png"]:
        assert (audit / "results/figures" / fig).stat().st_size > 10_000
    sidecar = (audit / "results/embeddings/dlib/demo/surgical-blue.json").read_text()
    assert '"weights_sha256"' in sidecar and '"n_embedded": 14' in sidecar
    assert '"n_embedded": 15' in (audit / "results/embeddings/dlib/demo/none.json").read_text()


def test_second_run_does_nothing(audit):
    assert "Nothing to be done" in snakemake(audit, "--dry-run").stdout


def test_recomputation_is_byte_identical(audit):
    tables = {t: (audit / f"results/tables/{t}.tsv").read_bytes() for t in ["overall", "by_gender_race"]}
    masked = (audit / "results/masked/demo/cloth-white/manifest.tsv").read_bytes()
    snakemake(audit, "--forcerun", "mask_images", "sample_pairs")
    assert (audit / "results/masked/demo/cloth-white/manifest.tsv").read_bytes() == masked
    for t, data in tables.items():
        assert (audit / f"results/tables/{t}.tsv").read_bytes() == data


def test_editing_one_variant_reruns_only_its_dependents(audit):
    def recolour(cfg):
        cfg["masks"]["variants"]["n95-skin_dark"]["colour"] = "black"

    write_config(audit, recolour)
    try:
        jobs = planned_jobs(audit)
    finally:
        write_config(audit)
    assert jobs == {
        "mask_images": 1, "embed_images": 1, "score_verification": 1, "score_identification": 1,
        "compute_metrics": 1, "collect_table": 4, "plot_accuracy_by_variant": 1,
        "plot_score_distributions": 1, "plot_mask_gallery": 1, "all": 1,  # not detection, pairs or face chips
    }


def test_single_table_target(audit):
    out = snakemake(audit, "--dry-run", "--force", "results/tables/by_race.tsv").stdout
    assert re.search(r"^collect_table\s+1$", out, re.M) and re.search(r"^total\s+1$", out, re.M)
    assert "Nothing to be done" in snakemake(audit, "--dry-run", "table_by_race").stdout


def test_report(audit):
    snakemake(audit, "--report", str(audit / "report.html"))
    html = (audit / "report.html").read_text(errors="replace")
    assert "by_gender_race.tsv" in html and "mask_gallery" in html and "face_chips" in html


def test_bad_config_key_fails_naming_the_key(audit):
    write_config(audit, lambda cfg: cfg["protocol"].update(rank=3))
    try:
        proc = snakemake(audit, "--dry-run", check=False)
    finally:
        write_config(audit)
    assert proc.returncode != 0
    assert "config key 'protocol.rank' is not recognised" in proc.stdout + proc.stderr
    assert "did you mean 'rank_k'?" in proc.stdout + proc.stderr
