"""The vendor adapters on the wire, against stateful fake servers on 127.0.0.1 (tests/support/fakes).

Each fake speaks its vendor's protocol (SigV4-signed AWS JSON for Rekognition, key header REST for
Azure, multipart forms for Face++ and FaceX) and scores the faces it receives with our dlib
embeddings, so genuine pairs outscore impostors. Covered: request shape, signing, pagination,
throttling and retry, error mapping, downscaling, cache hits, the budget cap, cleanup after a killed
process, and a Snakemake audit with all four vendors through every table and figure (1:N ranked from
the array each sidecar names; a second run sends nothing; no secret leaks), plus a vendor whose 1:N
was not run, reported as not run in the score files, tables and CMC.
"""

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from fakes.azure import FakeAzure
from fakes.facepp import FakeFacePP
from fakes.faces import ORACLE
from fakes.facex import FakeFaceX
from fakes.rekognition import FakeRekognition
from fakes.server import Reply
from workflow_support import seed_downloads
from workflow_support import snakemake as run_snakemake

from maskaudit.config import load_schema, validate_config
from maskaudit.models import get_card
from maskaudit.vendors.comparisons import load_comparisons
from maskaudit.vendors.errors import AuthError, BudgetExceeded, Unavailable
from maskaudit.vendors.images import Limits, prepare
from maskaudit.vendors.inputs import load_tables, read_job_inputs
from maskaudit.vendors.pairs import vendor_pairs
from maskaudit.vendors.registry import open_adapter
from maskaudit.vendors.run import execute

pytestmark = pytest.mark.integration
VENDORS = ["rekognition", "azure", "facepp", "facex"]
VARIANT = "surgical-blue"
SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIA" + uuid.uuid4().hex[:16].upper(),
    "AWS_SECRET_ACCESS_KEY": "awsSecret" + uuid.uuid4().hex,
    "FACE_APIKEY": "azureKey" + uuid.uuid4().hex,
    "FACEPP_API_KEY": "fppKey" + uuid.uuid4().hex,
    "FACEPP_API_SECRET": "fppSecret" + uuid.uuid4().hex,
    "FACEX_USER_ID": "fxUser" + uuid.uuid4().hex,
}
ENV = {
    **SECRETS,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# every vendor run here is bounded at 15 minutes
snakemake = functools.partial(run_snakemake, timeout=900)


@pytest.fixture(scope="module", autouse=True)
def env():
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        yield {**os.environ}


@pytest.fixture(scope="module")
def fakes():
    servers = {
        "rekognition": FakeRekognition(
            SECRETS["AWS_ACCESS_KEY_ID"], SECRETS["AWS_SECRET_ACCESS_KEY"]
        ),
        "azure": FakeAzure(SECRETS["FACE_APIKEY"]),
        "facepp": FakeFacePP(SECRETS["FACEPP_API_KEY"], SECRETS["FACEPP_API_SECRET"]),
        "facex": FakeFaceX(SECRETS["FACEX_USER_ID"]),
    }
    for s in servers.values():
        s.__enter__()
    yield servers
    for s in servers.values():
        s.__exit__(None, None, None)


def study_config(fakes, **vendor_over) -> dict:
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["datasets"]["demo"]["sources"] = str(REPO / "config/datasets/demo.yaml")
    cfg["masks"]["variants"] = {VARIANT: cfg["masks"]["variants"][VARIANT]}
    cfg["models"] = VENDORS
    cfg["vendors"]["impostors_per_probe"] = (
        2  # fewer paid calls in the demo; the protocol is the same
    )
    # the full audit below: intervals, not their precision
    cfg["stats"].update(bootstrap=20, permutations=20)
    cfg["explain"]["vendors"] = False  # the vendors' maps: tests/workflow/test_explain_vendors.py
    v = cfg["vendors"]
    v["rekognition"]["endpoint_url"] = fakes["rekognition"].url
    v["azure"]["endpoint"] = fakes["azure"].url
    v["facepp"]["endpoint"] = fakes["facepp"].url
    v["facex"]["base_url"] = fakes["facex"].url
    for name in VENDORS:
        v[name].update(rate_per_s=1000, burst=10, max_calls=2000, max_usd=5.0, backoff_base_s=0.01)
        v[name].update(vendor_over.get(name, {}))
    return cfg


def settings(fakes, vendor, **over):
    cfg = validate_config(
        study_config(fakes, **{vendor: over}),
        load_schema(REPO / "workflow/schemas/config.schema.yaml"),
    )
    return cfg["vendors"][vendor]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, fakes, env):
    """A workdir with the demo dataset, landmarks, one mask variant and the pairs (nothing sent yet)."""
    workdir = tmp_path_factory.mktemp("vendors")
    (workdir / "config.yaml").write_text(yaml.safe_dump(study_config(fakes), sort_keys=False))
    seed_downloads(workdir)
    snakemake(workdir, "vendor_inputs", env=env)
    return workdir


def job_inputs(workdir, variant):
    """A vendor job's inputs, from the table `snakemake vendor_inputs` wrote (what the plan reads)."""
    return read_job_inputs(workdir / "results/comparisons/inputs.tsv", workdir)[("demo", variant)]


@pytest.fixture(scope="module")
def faces(demo):
    """Paths of a genuine pair, an impostor and a masked image none of the fakes finds a face in."""
    probes, gallery = load_tables(**job_inputs(demo, VARIANT))
    path = dict(zip(gallery.image_id, gallery.path))
    masked = [p for p, s in zip(probes.path, probes.status) if s == "ok"]
    no_face = next(p for p in masked if ORACLE.embedding(prepare(p, FAKE_LIMITS).data) is None)
    return {
        "obama_1": path["obama_1"],
        "obama_2": path["obama_2"],
        "biden": path["biden_1"],
        "no_face": no_face,
    }


FAKE_LIMITS = Limits(max_side=1024, max_bytes=5 * 1024 * 1024, min_side=36)


def open_(vendor, fakes, cache_dir, sleeps=None, **over):
    sleep = (lambda s: sleeps.append(s)) if sleeps is not None else (lambda s: None)
    return open_adapter(vendor, settings(fakes, vendor, **over), cache_dir, sleep=sleep)


def prep(adapter, path):
    return prepare(path, adapter.limits)


THROTTLES = {
    "rekognition": (
        "CompareFaces",
        Reply(
            400,
            {"__type": "ProvisionedThroughputExceededException", "message": "slow"},
            content_type="application/x-amz-json-1.1",
        ),
    ),
    "azure": (
        "verify",
        Reply(
            429,
            {"error": {"code": "429", "message": "Rate limit is exceeded."}},
            {"Retry-After": "0.25"},
        ),
    ),
    "facepp": ("compare", Reply(403, {"error_message": "CONCURRENCY_LIMIT_EXCEEDED"})),
    "facex": ("match_faces", Reply(429, {"status": "failure", "message": "too many requests"})),
}


# -- 1:1 on the wire ---------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", VENDORS)
def test_genuine_outscores_impostor_and_cache_answers_the_second_time(
    vendor, fakes, faces, tmp_path
):
    a = open_(vendor, fakes, tmp_path)
    o1, o2, bi = (prep(a, faces[k]) for k in ("obama_1", "obama_2", "biden"))
    before = fakes[vendor].count()
    genuine, impostor = a.compare(o1, o2), a.compare(o1, bi)
    sent = fakes[vendor].count() - before
    assert genuine["status"] == impostor["status"] == "ok"
    sign = 1 if a.raw_direction == "higher_is_same" else -1
    assert sign * genuine["raw"] > sign * impostor["raw"]
    assert sent == (5 if vendor == "azure" else 2)  # azure: detect each image once (3) + verify (2)
    again = open_(vendor, fakes, tmp_path)
    assert (
        again.compare(o1, o2)["raw"] == genuine["raw"]
        and again.compare(o1, bi)["raw"] == impostor["raw"]
    )
    assert fakes[vendor].count() - before == sent and again.client.counters.cached == 2


def test_rekognition_request_shape_and_sigv4(fakes, faces, tmp_path):
    fake = fakes["rekognition"]
    a = open_("rekognition", fakes, tmp_path)
    checked = fake.signatures_checked
    a.compare(prep(a, faces["obama_1"]), prep(a, faces["biden"]))
    req = fake.requests("CompareFaces")[-1]
    body = json.loads(req.body)
    # low pairs keep their score
    assert body["SimilarityThreshold"] == 0 and body["QualityFilter"] == "NONE"
    assert (
        set(body["SourceImage"]) == {"Bytes"}
        and req.headers["content-type"] == "application/x-amz-json-1.1"
    )
    assert req.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=" + SECRETS["AWS_ACCESS_KEY_ID"]
    )
    assert fake.signatures_checked == checked + 1


def test_rekognition_wrong_secret_fails_the_signature_and_is_not_retried(
    fakes, faces, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    a = open_("rekognition", fakes, tmp_path)
    before = fakes["rekognition"].count()
    with pytest.raises(AuthError, match="InvalidSignatureException"):
        a.compare(prep(a, faces["obama_1"]), prep(a, faces["obama_2"]))
    assert fakes["rekognition"].count() - before == 1
    assert a.client.cache.count() == 0  # never cached


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendors_own_throttle_signal_is_retried_and_charged(vendor, fakes, faces, tmp_path):
    op, reply = THROTTLES[vendor]
    fake, sleeps = fakes[vendor], []
    a = open_(vendor, fakes, tmp_path, sleeps)
    o1, o2 = prep(a, faces["obama_1"]), prep(a, faces["obama_2"])
    fake.inject(op, reply, times=2)
    before = fake.count(op)
    assert a.compare(o1, o2)["status"] == "ok"
    assert (
        fake.count(op) - before == 3
        and a.client.counters.retries == 2
        and a.client.counters.throttled == 2
    )
    assert a.client.ledger.spent(vendor)[0] == a.client.counters.calls  # every attempt charged
    if vendor == "azure":
        assert sleeps == [0.25, 0.25]  # Retry-After honoured


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_face_is_a_failure_to_acquire_never_retried(vendor, fakes, faces, tmp_path):
    a = open_(vendor, fakes, tmp_path)
    o1, nf = prep(a, faces["obama_1"]), prep(a, faces["no_face"])
    before = fakes[vendor].count()
    rec = a.compare(nf, o1)
    assert rec["status"] == "vendor_no_face" and a.client.counters.retries == 0
    if vendor != "rekognition":  # Rekognition does not say which side; the job asks DetectFaces
        assert rec["side"] == "probe"
    sent = fakes[vendor].count() - before
    assert sent == (2 if vendor == "azure" else 1)  # azure: detect both sides, no verify
    assert open_(vendor, fakes, tmp_path).compare(nf, o1)["status"] == "vendor_no_face"
    assert fakes[vendor].count() - before == sent  # the failure is cached too


def test_facepp_transient_and_image_errors(fakes, faces, tmp_path):
    fake = fakes["facepp"]
    a = open_("facepp", fakes, tmp_path)
    o1, o2 = prep(a, faces["obama_1"]), prep(a, faces["obama_2"])
    fake.inject("compare", Reply(500, {"error_message": "INTERNAL_ERROR"}))
    assert a.compare(o1, o2)["status"] == "ok" and a.client.counters.retries == 1
    # not JSON
    fake.inject(
        "compare", Reply(413, raw=b"413 Request Entity Too Large", content_type="text/plain")
    )
    assert a.compare(o2, o1)["status"] == "vendor_image_too_large"
    fake.inject("compare", Reply(401, {"error_message": "AUTHENTICATION_ERROR"}))
    with pytest.raises(AuthError, match="FACEPP_API_KEY"):
        a.compare(o1, prep(a, faces["biden"]))


def test_oversized_images_are_downscaled_before_sending(fakes, faces, tmp_path):
    from PIL import Image

    big = tmp_path / "big.png"
    img = Image.open(faces["obama_1"]).convert("RGB")
    scale = 4100 / max(img.size)
    img.resize((round(img.width * scale), round(img.height * scale))).save(big, compress_level=1)
    a = open_("facepp", fakes, tmp_path / "cache")
    p = prep(a, big)
    assert (
        p.record["downscaled"] and max(p.record["sent"]) <= 4096 and len(p.data) <= 2 * 1024 * 1024
    )
    assert max(p.record["original"]) > 4096
    assert a.compare(p, prep(a, faces["obama_2"]))["status"] == "ok"
    w, h, n = fakes["facepp"].sizes[-2]
    assert max(w, h) <= 4096 and n <= 2 * 1024 * 1024


# -- errors that change the run's state ----------------------------------------------------------------
def test_azure_limited_access_becomes_unavailable_not_a_crash(demo, faces, tmp_path, env):
    with FakeAzure(SECRETS["FACE_APIKEY"], limited_access=True) as fake:
        s = {
            **settings({"rekognition": fake, "azure": fake, "facepp": fake, "facex": fake}, "azure")
        }
        a = open_adapter("azure", s, tmp_path)
        with pytest.raises(Unavailable, match="Limited Access"):
            a.detect(prep(a, faces["obama_1"]))
        probes, gallery = load_tables(**job_inputs(demo, "none"))
        arrays, side = execute(
            "azure",
            s,
            tmp_path,
            probes,
            gallery,
            dataset="demo",
            variant="none",
            card=get_card("azure"),
            seed=1,
            impostors_per_probe=2,
        )
    assert side["available"] is False and "UnsupportedFeature" in side["unavailable_reason"]
    assert (
        set(arrays["probe_status"]) == {"vendor_unavailable"}
        and np.isnan(arrays["similarity"]).all()
    )
    assert a.client.cache.count() == 0


def test_azure_wrong_key_is_an_auth_error(fakes, faces, tmp_path, monkeypatch):
    monkeypatch.setenv("FACE_APIKEY", "wrong")
    a = open_("azure", fakes, tmp_path)
    with pytest.raises(AuthError, match="FACE_APIKEY"):
        a.detect(prep(a, faces["obama_1"]))


# -- budget ---------------------------------------------------------------------------------------------
def test_cap_below_the_plan_stops_before_the_first_call(demo, fakes, tmp_path):
    probes, gallery = load_tables(**job_inputs(demo, "none"))
    before = fakes["facepp"].count()
    with pytest.raises(
        BudgetExceeded, match=r"needs an estimated \d+ calls but only 20 .* Nothing was sent"
    ):
        execute(
            "facepp",
            settings(fakes, "facepp", max_calls=20),
            tmp_path,
            probes,
            gallery,
            dataset="demo",
            variant="none",
            card=get_card("facepp"),
            seed=1,
            impostors_per_probe=5,
        )
    assert fakes["facepp"].count() == before


def test_hard_cap_counts_retries_and_stops_before_the_call_that_would_exceed_it(
    fakes, faces, tmp_path
):
    op, reply = THROTTLES["rekognition"]
    fake = fakes["rekognition"]
    a = open_("rekognition", fakes, tmp_path, max_calls=3)
    fake.inject(op, reply, times=5)
    before = fake.count(op)
    with pytest.raises(BudgetExceeded, match="would be call 4"):
        a.compare(prep(a, faces["obama_1"]), prep(a, faces["obama_2"]))
    assert fake.count(op) - before == 3 and a.client.ledger.spent("rekognition")[0] == 3
    fake.faults[op].clear()


# -- 1:N galleries: pagination, cleanup after a crash ---------------------------------------------------
def test_listing_galleries_follows_pagination(fakes, tmp_path):
    fake = fakes["rekognition"]
    for name in ["maskaudit-a", "maskaudit-b", "other-c", "maskaudit-d", "other-e"]:
        fake.collections[name] = {"faces": {}, "tags": {}}
    a = open_("rekognition", fakes, tmp_path)
    before = fake.count("ListCollections")
    assert sorted(a.list_galleries()) == ["maskaudit-a", "maskaudit-b", "maskaudit-d"]
    assert fake.count("ListCollections") - before == 3  # pages of 2
    for name in ["maskaudit-a", "maskaudit-b", "maskaudit-d"]:
        assert a.delete_gallery(name)
    assert not a.delete_gallery("maskaudit-a")  # already gone: tolerated
    for name in ["other-c", "other-e"]:
        del fake.collections[name]


def test_azure_and_facepp_listing_follow_their_pagination(fakes, tmp_path):
    az, fp = fakes["azure"], fakes["facepp"]
    names = ["maskaudit-p1", "maskaudit-p2", "maskaudit-p3"]
    for n in names:
        az.groups[n] = {"persons": {}, "trained": False, "model": "recognition_04"}
        fp.facesets[n] = {"tokens": [], "tags": "maskaudit", "token": n}
    a = open_adapter("azure", {**settings(fakes, "azure"), "page_size": 2}, tmp_path)
    before = az.count("list_groups")
    assert a.list_galleries() == names and az.count("list_groups") - before == 2  # start/top paging
    f = open_("facepp", fakes, tmp_path)
    before = fp.count("faceset/getfacesets")
    # start/next paging
    assert f.list_galleries() == names and fp.count("faceset/getfacesets") - before == 2
    for n in names:
        assert a.delete_gallery(n) and f.delete_gallery(n)
    # already gone: tolerated
    assert not a.delete_gallery(names[0]) and not f.delete_gallery(names[0])


CRASH_SCRIPT = """
import sys, yaml
from maskaudit.models import get_card
from maskaudit.vendors.inputs import load_tables, read_job_inputs
from maskaudit.vendors.pairs import vendor_pairs
from maskaudit.vendors.run import execute
vendor, workdir, cfg_path = sys.argv[1:4]
cfg = yaml.safe_load(open(cfg_path))
from maskaudit.config import load_schema, validate_config
cfg = validate_config(cfg, load_schema(sys.argv[4]))
probes, gallery = load_tables(**read_job_inputs(workdir + "/results/comparisons/inputs.tsv", workdir)[("demo", "none")])
pairs = vendor_pairs(gallery.image_id, gallery.identity, seed=1, dataset="demo", impostors_per_probe=0,
                     baseline=True).head(3)  # a few 1:1 calls, then the gallery and the search (held by the fake)
execute(vendor, cfg["vendors"][vendor], cfg["vendors"]["cache_dir"], probes, gallery, pairs=pairs,
        dataset="demo", variant="none", card=get_card(vendor), seed=1, impostors_per_probe=0)
"""

GALLERIES = {
    "rekognition": ("SearchFacesByImage", "collections"),
    "azure": ("identify", "groups"),
    "facepp": ("search", "facesets"),
}


@pytest.mark.parametrize("vendor", list(GALLERIES))
def test_cleanup_sweeps_the_gallery_of_a_killed_run(vendor, demo, fakes, env, tmp_path):
    op, state = GALLERIES[vendor]
    fake = fakes[vendor]
    cfg = study_config(fakes)
    cfg["models"] = [vendor]
    cfg["vendors"]["cache_dir"] = str(tmp_path / "cache")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    release = fake.hold(op)
    fake.arrived[op].clear()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CRASH_SCRIPT,
            vendor,
            str(demo),
            str(tmp_path / "config.yaml"),
            str(REPO / "workflow/schemas/config.schema.yaml"),
        ],
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert fake.arrived[op].wait(timeout=180), (
            proc.stdout.read().decode()[-3000:] if proc.poll() else "no search"
        )
        live = [n for n in getattr(fake, state) if n.startswith("maskaudit-")]
        assert len(live) == 1  # the run's gallery exists while it searches
        proc.send_signal(signal.SIGKILL)  # no finally runs
        proc.wait(timeout=30)
    finally:
        del fake.held[op]
        release.set()
    time.sleep(0.2)
    assert live[0] in getattr(fake, state)  # orphaned
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "maskaudit",
            "vendors",
            "cleanup",
            "--configfile",
            str(tmp_path / "config.yaml"),
            "--directory",
            str(demo),
            "--vendor",
            vendor,
        ],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"{live[0]}: deleted" in out.stdout
    assert not [n for n in getattr(fake, state) if n.startswith("maskaudit-")]


def test_facex_matrix_is_not_run_when_the_budget_cannot_cover_it(demo, fakes, tmp_path):
    probes, gallery = load_tables(**job_inputs(demo, "none"))
    before = fakes["facex"].count()
    # masked-variant pairs without impostors: 15 + 20 genuine cells; the full matrix needs 190 more
    pairs = vendor_pairs(
        gallery.image_id,
        gallery.identity,
        seed=1,
        dataset="demo",
        impostors_per_probe=0,
        baseline=False,
    )
    arrays, side = execute(
        "facex",
        settings(fakes, "facex", max_calls=60),
        tmp_path,
        probes,
        gallery,
        pairs=pairs,
        dataset="demo",
        variant="none",
        card=get_card("facex"),
        seed=1,
        impostors_per_probe=0,
    )
    assert fakes["facex"].count() - before == 35 == side["n_calls"]
    ident = side["identification"]
    assert ident["method"] == "not_run" and ident["array"] is None
    assert "needs 190 more calls" in ident["reason"] and "25 calls" in ident["reason"]
    assert "not_run" in arrays["search_probe_status"]
    assert np.isfinite(arrays["similarity"]).sum() == 35


# -- the workflow -----------------------------------------------------------------------------------------
def _counts(fakes):
    return {v: f.count() for v, f in fakes.items()}


def test_demo_audit_with_all_four_vendors(demo, fakes, env):
    workdir = demo
    before_plan = _counts(fakes)
    plan = subprocess.run(
        [
            sys.executable,
            "-m",
            "maskaudit",
            "vendors",
            "plan",
            "--configfile",
            str(workdir / "config.yaml"),
            "--directory",
            str(workdir),
        ],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plan.returncode == 0, plan.stderr
    assert _counts(fakes) == before_plan  # the plan sends nothing

    # a cap below the run's cost stops the job before its first call, naming the key
    capped = yaml.safe_load((workdir / "config.yaml").read_text())
    capped["vendors"]["rekognition"]["max_calls"] = 5
    (workdir / "capped.yaml").write_text(yaml.safe_dump(capped))
    stopped = snakemake(
        workdir,
        "results/comparisons/rekognition/demo/none.npz",
        env=env,
        config="capped.yaml",
        check=False,
    )
    assert stopped.returncode != 0 and _counts(fakes) == before_plan
    log = (workdir / "logs/compare_vendor/rekognition/demo/none.log").read_text()
    assert "vendors.rekognition.max_calls = 5" in log and "Nothing was sent" in log
    before = _counts(fakes)
    assert all(f"| {v} | demo | none |" in plan.stdout for v in VENDORS)
    snakemake(workdir, "vendor_comparisons", env=env)
    after = _counts(fakes)
    assert all(after[v] > before[v] for v in VENDORS)
    for vendor in VENDORS:
        for variant in ["none", VARIANT]:
            arrays, side = load_comparisons(
                workdir / f"results/comparisons/{vendor}/demo/{variant}.npz"
            )
            assert side["system"] == vendor and side["available"] and side["n_calls"] > 0
            assert {
                "similarity_scale",
                "raw_direction",
                "threshold",
                "threshold_source",
                "cached_calls",
            } <= set(side)
            assert (
                arrays["similarity"].shape == (15, 15) and arrays["similarity"].dtype == np.float32
            )
        arrays, side = load_comparisons(workdir / f"results/comparisons/{vendor}/demo/none.npz")
        sim = arrays["similarity"]
        same = np.diag(sim)
        off = sim[~np.eye(15, dtype=bool)]
        assert np.isfinite(same).all() and np.nanmedian(off) < same.min()  # genuine above impostors
        ident = side["identification"]["method"]
        assert ident == ("compare_matrix" if vendor == "facex" else "vendor_search")
        if vendor != "facex":
            assert (np.isfinite(arrays["search_similarity"]).sum(axis=1) == 5).all()
        masked, _ = load_comparisons(workdir / f"results/comparisons/{vendor}/demo/{VARIANT}.npz")
        # masks hide faces from the fakes' detector
        assert "vendor_no_face" in masked["probe_status"]

    # a rerun does nothing; recomputing the comparisons sends no request (the cache answers)
    rerun = snakemake(workdir, "vendor_comparisons", env=env)
    assert "Nothing to be done" in rerun.stdout + rerun.stderr
    snakemake(
        workdir,
        *[f"results/comparisons/{v}/demo/none.npz" for v in VENDORS],
        "--forcerun",
        "compare_vendor",
        env=env,
    )
    assert _counts(fakes) == after
    for vendor in VENDORS:
        _, side = load_comparisons(workdir / f"results/comparisons/{vendor}/demo/none.npz")
        assert side["n_calls"] == 0 and side["cached_calls"] > 0

    # the whole audit: every table has the vendors' rows and every per-system figure exists; 1:N is
    # ranked from the array the sidecar names, never from the sampled 1:1 pairs
    snakemake(workdir, env=env)
    assert _counts(fakes) == after  # scoring, tables and figures send nothing
    check_audit_outputs(workdir)
    assert "Nothing to be done" in snakemake(workdir, "--dry-run", env=env).stdout
    assert _counts(fakes) == after

    # no credential string anywhere the workflow wrote
    for folder in ["results", "logs", ".snakemake", "resources/vendor_cache"]:
        for path in (workdir / folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                leaked = [k for k, v in SECRETS.items() if v.encode() in data]
                assert not leaked, f"{leaked} found in {path}"

    # a vendor without credentials is skipped with a message; the others still run
    no_facex = {k: v for k, v in env.items() if k != "FACEX_USER_ID"}
    dry = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            "2",
            "vendor_comparisons",
            "-n",
            "--forcerun",
            "compare_vendor",
            "--configfile",
            str(workdir / "config.yaml"),
        ],
        env=no_facex,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dry.returncode == 0, dry.stderr
    assert "skipping vendor 'facex': missing FACEX_USER_ID" in dry.stdout + dry.stderr
    assert re.search(r"compare_vendor\s+6$", dry.stdout, re.M), dry.stdout


def check_audit_outputs(workdir):
    """The vendors' rows in every table and their figures, with 1:N from the array each sidecar names."""
    tables = {
        p.stem: pd.read_csv(p, sep="\t", keep_default_na=False, na_values=["NaN"])
        for p in (workdir / "results/tables").glob("*.tsv")
    }
    expected = {
        "overall",
        "by_gender",
        "by_race",
        "by_gender_race",
        "differentials",
        "fairness",
        "mask_effects",
        "mask_colour_by_race",
        "clustering",
        "thresholds",
    }
    assert expected <= set(tables), sorted(tables)
    for name in expected:
        assert set(VENDORS) <= set(tables[name].model), f"{name}: {sorted(set(tables[name].model))}"
    overall = tables["overall"]
    for vendor in VENDORS:
        for figure in [
            "rates_by_variant",
            "score_distributions",
            "det",
            "cmc",
            "forest",
            "mask_colour",
            "clustering",
        ]:
            png = workdir / f"results/figures/{figure}/{vendor}.demo.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        for variant in ["none", VARIANT]:
            _, side = load_comparisons(workdir / f"results/comparisons/{vendor}/demo/{variant}.npz")
            ident = pd.read_csv(
                workdir / f"results/scores/{vendor}/demo/{variant}/identification.tsv",
                sep="\t",
                keep_default_na=False,
                na_values=["NaN"],
            )
            assert set(ident.identification_source) == {side["identification"]["array"]}
            assert (ident.system_kind == "comparison").all()
        rows = overall[(overall.model == vendor) & (overall.variant == "none")].set_index("measure")
        assert rows.loc["fnmr", "trials"].min() > 0 and np.isfinite(rows.loc["fmr", "value"]).all()
        # the baseline's mated searches were ranked and a vendor's rank-1 is a real rate
        assert rows.loc["rank1", "trials"] > 0 and 0 <= rows.loc["rank1", "value"] <= 1
        assert "note" not in overall or (overall[overall.model == vendor].note == "").all()
    thresholds = tables["thresholds"]
    assert set(thresholds[thresholds.comparison == "verification"].model) >= set(VENDORS)


def test_vendor_without_1n_is_reported_as_not_run_in_every_table(demo, fakes, env, tmp_path):
    """FaceX with ``identification: none``: its identification rows are NaN with the reason, never misses."""
    workdir = tmp_path / "notrun"
    shutil.copytree(demo, workdir, ignore=shutil.ignore_patterns("locks", "incomplete"))
    had_comparisons = (workdir / "results/comparisons/facex/demo/none.npz").exists()
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    cfg["models"] = ["facex"]
    cfg["vendors"]["facex"]["identification"] = "none"
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    before = _counts(fakes)
    cmc = workdir / "results/figures/cmc/facex.demo.png"
    cmc.unlink(missing_ok=True)
    snakemake(
        workdir,
        "results/tables/overall.tsv",
        "results/tables/thresholds.tsv",
        str(cmc.relative_to(workdir)),
        env=env,
    )
    assert cmc.read_bytes()[:4] == b"\x89PNG"  # an empty CMC that says why (1:N not run)
    if had_comparisons:  # the 1:1 pairs were already answered: the cache serves them
        assert _counts(fakes) == before
    reason = "vendors.facex.identification is none"
    for variant in ["none", VARIANT]:
        _, side = load_comparisons(workdir / f"results/comparisons/facex/demo/{variant}.npz")
        assert side["identification"] == {"method": "not_run", "array": None, "reason": reason}
        ident = pd.read_csv(
            workdir / f"results/scores/facex/demo/{variant}/identification.tsv",
            sep="\t",
            keep_default_na=False,
            na_values=["NaN"],
        )
        assert set(ident.search) == {"not_run"} and ident.mate_rank.isna().all()
        assert set(ident.identification_reason) == {reason}
    overall = pd.read_csv(
        workdir / "results/tables/overall.tsv", sep="\t", keep_default_na=False, na_values=["NaN"]
    )
    ident_rows = overall[overall.comparison == "identification"]
    assert len(ident_rows) and ident_rows.value.isna().all() and (ident_rows.trials == 0).all()
    assert (ident_rows.note == f"1:N not run: {reason}").all()
    ver = overall[(overall.comparison == "verification") & (overall.measure == "fnmr")]
    assert (ver.trials > 0).all() and (
        overall[overall.comparison != "identification"].note == ""
    ).all()
    thresholds = pd.read_csv(
        workdir / "results/tables/thresholds.tsv",
        sep="\t",
        keep_default_na=False,
        na_values=["NaN"],
    )
    open_set = thresholds[thresholds.comparison == "identification"]
    assert (~open_set.supported).all() and open_set.reason.str.startswith("1:N not run").all()
