"""Explanation maps of the commercial APIs against the wire fakes (tests/support/fakes: real HTTP on loopback).

Covered: a vendor map end to end through Snakemake into the attention table and figures; the
response cache (a second run sends nothing); the budget cap (a photo the caps cannot pay for is not
started, a map the ledger stops mid-way is a counted failure); ``maskaudit vendors plan`` counting
the map requests the fake servers then receive; the plan's scope against the jobs Snakemake plans
(mask grid included) and a vendor without credentials skipped; and the "single region drives the
score" proof with a FaceX fake whose distance depends on one region's pixels only.
"""

import io
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml
from conftest import REPO
from fakes.azure import FakeAzure
from fakes.facepp import FakeFacePP
from fakes.facex import FakeFaceX
from fakes.rekognition import FakeRekognition
from fakes.server import Reply
from PIL import Image
from test_vendors_wire import ENV, SECRETS, VARIANT, snakemake, study_config
from workflow_support import seed_downloads

from maskaudit.detect import load_landmarks
from maskaudit.explain import REGIONS
from maskaudit.explain.run import (
    Settings,
    load_explanations,
    sample_images,
    settings_for,
)
from maskaudit.explain.vendor import Photos, explain_vendor_images, face_box
from maskaudit.imageio import read_rgb
from maskaudit.masking import read_variant_manifest, stored_landmarks
from maskaudit.models import get_card
from maskaudit.vendors.inputs import load_tables
from maskaudit.vendors.registry import open_adapter

pytestmark = pytest.mark.integration
K_DEMO = (
    25  # occluded copies per map with the demo's occlusion settings (patch 0.333, stride 0.167)
)


@pytest.fixture(scope="module", autouse=True)
def env():
    with pytest.MonkeyPatch.context() as mp:
        for k, v in ENV.items():
            mp.setenv(k, v)
        yield {**__import__("os").environ}


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


def config(fakes, **vendor_over):
    cfg = study_config(fakes, **vendor_over)
    cfg["models"] = ["facex"]
    cfg["explain"]["vendors"] = True
    return cfg


@pytest.fixture(scope="module")
def demo(tmp_path_factory, fakes, env):
    """A workdir with the demo dataset, landmarks, the baseline and one mask variant (nothing sent)."""
    workdir = tmp_path_factory.mktemp("explain-vendors")
    (workdir / "config.yaml").write_text(yaml.safe_dump(config(fakes), sort_keys=False))
    seed_downloads(workdir)
    snakemake(workdir, "vendor_inputs", env=env)
    return workdir


def job_inputs(workdir, variant, faces=3):
    """What an explain_vendor job reads: its variant table, the gallery, landmarks and the sample."""
    results = workdir / "results"
    landmarks = load_landmarks(results / "faces/demo/landmarks.npz")
    baseline = read_variant_manifest(results / "masked/demo/none/manifest.tsv")
    table = read_variant_manifest(results / f"masked/demo/{variant}/manifest.tsv")
    _, gallery = load_tables(
        results / "datasets/demo/manifest.tsv", results / "faces/demo/landmarks.npz"
    )
    sample = sample_images(baseline, stored_landmarks(baseline, landmarks), faces, 20240221, "demo")
    return table, gallery, stored_landmarks(table, landmarks), sample


def adapter(fakes, vendor, cache_dir, **over):
    cfg = config(fakes, **{vendor: over})
    from maskaudit.config import load_schema, validate_config

    cfg = validate_config(cfg, load_schema(REPO / "workflow/schemas/config.schema.yaml"))
    return open_adapter(vendor, cfg["vendors"][vendor], cache_dir, sleep=lambda s: None), cfg


def settings(cfg, vendor):
    return settings_for(get_card(vendor), cfg["explain"])


# -- plan, cache and budget on the wire ---------------------------------------------------------------
@pytest.mark.parametrize("vendor", ["rekognition", "azure", "facepp", "facex"])
def test_the_plan_counts_the_requests_the_fake_receives_and_a_rerun_sends_none(
    vendor, demo, fakes, tmp_path
):
    fake = fakes[vendor]
    for variant in ["none", VARIANT]:
        a, cfg = adapter(fakes, vendor, tmp_path / "cache")
        s = settings(cfg, vendor)
        table, gallery, lm, sample = job_inputs(demo, variant)
        photos = Photos(a, table, gallery, lm, sample, s, get_card(vendor).input_size, "demo")
        plan = photos.plan()
        before = fake.count()
        out = explain_vendor_images(
            a, get_card(vendor), table, gallery, lm, sample, s, dataset="demo"
        )
        sent = fake.count() - before
        assert sent == a.client.counters.calls == out["requests"].sum() > 0
        # the unperturbed photo had no face: 1 request, not K + 1
        no_face = out["status"] == "vendor_no_face"
        # azure: detect + verify per copy (detect only without a face)
        per_copy = 2 if vendor == "azure" else 1
        expected = (
            sum(plan.values())
            - per_copy * K_DEMO * no_face.sum()
            - (per_copy - 1) * out["copies_failed"].sum()
        )
        if vendor == "azure":
            expected -= no_face.sum()  # its reference was detected, the failed probe not verified
        assert sent == expected, (plan, out["status"], out["copies_failed"])
        # every photo mapped; exact for every vendor that pays per copy, face or not
        if variant == "none":
            assert (out["status"] == "ok").all() and (
                vendor == "azure" or sent == sum(plan.values())
            )
        ok = out["status"] == "ok"
        assert (
            ok.any()
            and np.allclose(out["shares"][ok].sum(1), 1)
            and np.isfinite(out["maps"][ok]).all()
        )
        # the cache: nothing is left to plan, a second run sends nothing and gives the same maps
        again, _ = adapter(fakes, vendor, tmp_path / "cache")
        assert (
            Photos(again, table, gallery, lm, sample, s, get_card(vendor).input_size, "demo").plan()
            == {}
        )
        before = fake.count()
        out2 = explain_vendor_images(
            again, get_card(vendor), table, gallery, lm, sample, s, dataset="demo"
        )
        assert (
            fake.count() == before
            and again.client.counters.calls == 0
            and again.client.counters.cached > 0
        )
        assert (
            np.array_equal(out2["maps"], out["maps"], equal_nan=True)
            and (out2["status"] == out["status"]).all()
        )


def test_a_photo_the_caps_cannot_pay_for_is_not_started_and_counted(demo, fakes, tmp_path):
    fake = fakes["facex"]
    a, cfg = adapter(fakes, "facex", tmp_path, max_calls=K_DEMO + 1 + 10)
    table, gallery, lm, sample = job_inputs(demo, "none")
    before = fake.count()
    out = explain_vendor_images(
        a, get_card("facex"), table, gallery, lm, sample, settings(cfg, "facex"), dataset="demo"
    )
    assert fake.count() - before == K_DEMO + 1 == a.client.ledger.spent("facex")[0]
    assert out["status"].tolist() == ["ok", "vendor_budget", "vendor_budget"]
    assert (
        "need 26 requests ($0.0260) but the caps vendors.facex.max_calls/max_usd leave 10"
        in out["detail"][1]
    )
    assert "nothing was sent for it" in out["detail"][1] and out["requests"][1:].sum() == 0
    assert np.isnan(out["shares"][1:]).all() and np.isfinite(out["shares"][0]).all()


def test_the_cap_stops_a_map_mid_way_and_the_photo_is_a_counted_failure(demo, fakes, tmp_path):
    """Throttled attempts are charged too: three retries leave the last copies of the map over the cap."""
    fake = fakes["facex"]
    a, cfg = adapter(fakes, "facex", tmp_path, max_calls=K_DEMO + 1)
    table, gallery, lm, sample = job_inputs(demo, "none")
    fake.inject(
        "match_faces", Reply(429, {"status": "failure", "message": "too many requests"}), times=3
    )
    before = fake.count()
    out = explain_vendor_images(
        a, get_card("facex"), table, gallery, lm, sample, settings(cfg, "facex"), dataset="demo"
    )
    # never past the cap
    assert fake.count() - before == K_DEMO + 1 == a.client.ledger.spent("facex")[0]
    assert out["status"].tolist() == ["vendor_budget"] * 3 and out["requests"].tolist() == [
        K_DEMO + 1,
        0,
        0,
    ]
    assert (
        out["detail"][0].startswith("stopped mid-map")
        and "vendors.facex.max_calls = 26" in out["detail"][0]
    )
    assert np.isnan(out["maps"]).all()
    # the answers it paid for are cached: raising the cap finishes the map with the 3 requests it lacked
    a2, _ = adapter(fakes, "facex", tmp_path, max_calls=K_DEMO + 1 + 3)
    before = fake.count()
    out2 = explain_vendor_images(
        a2,
        get_card("facex"),
        table,
        gallery,
        lm,
        sample[:1],
        settings(cfg, "facex"),
        dataset="demo",
    )
    assert out2["status"].tolist() == ["ok"] and fake.count() - before == 3


# -- one region drives the score ----------------------------------------------------------------------
def _decode(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float64)


@pytest.mark.parametrize("method", ["occlusion", "rise"])
@pytest.mark.parametrize(
    "region, points", [("eyes_brows", range(36, 48)), ("mouth", range(48, 60))]
)
def test_a_vendor_whose_score_depends_on_one_region_is_mapped_there(
    region, points, method, demo, tmp_path
):
    """The fake's distance is how much the probe's pixels in one landmark box changed from the
    unperturbed photo: the map's peak lies in that box and most of its mass within a patch of it
    (occlusion: > 85% and the region's share is the largest; RISE, whose cells are an eighth of the
    box: > 60%)."""
    table, gallery, lm, sample = job_inputs(demo, "none", faces=1)
    image_id = sample[0]
    rgb = read_rgb(table.set_index("image_id").loc[image_id, "path"])
    original = None
    pts = lm[image_id][list(points)]
    (x0, y0), (x1, y1) = np.floor(pts.min(0)).astype(int), np.ceil(pts.max(0)).astype(int) + 1

    def scorer(img_1, img_2):
        probe = _decode(img_1)
        return np.abs(probe[y0:y1, x0:x1] - original[y0:y1, x0:x1]).mean() / 255.0

    with FakeFaceX(SECRETS["FACEX_USER_ID"], scorer=scorer) as fake:
        from maskaudit.vendors.images import prepare_array

        a = open_adapter(
            "facex",
            {
                "base_url": fake.url,
                "rate_per_s": 1000,
                "burst": 10,
                "max_calls": None,
                "max_usd": None,
                "max_retries": 1,
                "backoff_base_s": 0.01,
                "backoff_cap_s": 0.1,
            },
            tmp_path,
            sleep=lambda s: None,
        )
        original = _decode(prepare_array(rgb, a.limits).data)  # the photo as the vendor receives it
        s = Settings(
            method=method,
            seed=3,
            occlusion={"patch": 0.15, "stride": 0.075, "fill": "mean"},
            rise={"masks": 300, "cells": 8, "p": 0.5, "fill": "mean"},
        )
        out = explain_vendor_images(
            a, get_card("facex"), table, gallery, lm, sample, s, dataset="demo"
        )
    assert out["status"].tolist() == ["ok"]
    shares = dict(zip(REGIONS, out["shares"][0]))
    if method == "occlusion":  # RISE's smooth masks spread the mass a cell wide (below)
        # the landmark box also reaches into nose and cheeks
        assert max(shares, key=shares.get) == region, shares
    # on the photo, nearly all positive mass lies within one occlusion patch of the box that drives the score
    from maskaudit.explain.figures import on_image

    sal = np.clip(on_image({k: out[k] for k in ("maps", "to_image", "image_shape")}, 0), 0, None)
    bx0, by0, bx1, by1 = face_box(lm[image_id], rgb.shape)
    grow = int(np.ceil(0.15 * max(bx1 - bx0, by1 - by0)))
    near = sal[max(0, y0 - grow) : y1 + grow, max(0, x0 - grow) : x1 + grow].sum() / sal.sum()
    area = (min(y1 + grow, rgb.shape[0]) - max(0, y0 - grow)) * (
        min(x1 + grow, rgb.shape[1]) - max(0, x0 - grow)
    )
    assert (
        near > (0.85 if method == "occlusion" else 0.6) and area / ((bx1 - bx0) * (by1 - by0)) < 0.5
    ), (near, shares)
    peak = np.unravel_index(np.argmax(sal), sal.shape)
    half = grow / 2
    assert x0 - half <= peak[1] < x1 + half and y0 - half <= peak[0] < y1 + half, (
        peak,
        (x0, y0, x1, y1),
    )


# -- the workflow ------------------------------------------------------------------------------------------
def _plan(workdir, env):
    snakemake(workdir, "vendor_inputs", env=env)  # the job table the plan prices (sends nothing)
    out = subprocess.run(
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
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    rows = re.findall(
        r"^\| facex \| demo \| (\S+) \|(?:[^|]*\|){5} (\d+) \| ([\d.]+) \|$", out.stdout, re.M
    )
    return {v: (int(n), float(usd)) for v, n, usd in rows}, out.stdout


def test_vendor_maps_through_snakemake_into_the_tables_and_figures(demo, fakes, env):
    workdir, fake = demo, fakes["facex"]
    before = fake.count()
    plan, text = _plan(workdir, env)
    assert fake.count() == before and set(plan) == {"none", VARIANT}, text  # the plan sends nothing
    assert plan["none"] == (3 * (K_DEMO + 1), 0.078)  # 3 photos x 26 requests at $0.001
    maps = [f"results/explanations/facex/demo/{v}.npz" for v in ("none", VARIANT)]
    targets = maps + [
        "results/tables/attention.tsv",
        "results/figures/saliency_grid/demo.png",
        "results/figures/saliency_mean/facex.demo.png",
        "results/figures/attention_forest/demo.png",
    ]
    sent = {}
    for variant, path in zip(["none", VARIANT], maps):
        before = fake.count()
        snakemake(workdir, path, env=env)
        sent[variant] = fake.count() - before
    e = {v: load_explanations(workdir / p) for v, p in zip(["none", VARIANT], maps)}
    assert sent["none"] == plan["none"][0]
    no_face = (e[VARIANT]["status"] == "vendor_no_face").sum()  # 1 request each instead of K + 1
    assert sent[VARIANT] == plan[VARIANT][0] - K_DEMO * no_face
    for variant, x in e.items():
        assert x["meta"]["method"] == "occlusion" and x["meta"]["model"] == "facex"
        assert (
            x["meta"]["n_calls"] == sent[variant]
            and x["meta"]["plan_before_run"]["n_calls"] == plan[variant][0]
        )
        assert x["meta"]["pipeline"]["map_on"].startswith("the stored photo (image coordinates)")
        ok = x["status"] == "ok"
        assert np.allclose(x["shares"][ok].sum(1), 1)
        # the grid lands on the face: its centre maps inside the landmarks' box
        w, h = x["meta"]["pipeline"]["input_size"]
        centre = x["to_image"][ok, :, :2] @ np.array([w / 2, h / 2]) + x["to_image"][ok, :, 2]
        assert ((centre > x["landmarks"][ok].min(1)) & (centre < x["landmarks"][ok].max(1))).all()
    assert (e["none"]["status"] == "ok").all()
    log = (workdir / "logs/explain_vendor/facex/demo/none.log").read_text()
    assert f"{plan['none'][0]} requests sent, 0 from the cache" in log
    before = fake.count()
    snakemake(workdir, *targets, env=env)
    assert fake.count() == before  # tables and figures send nothing
    import pandas as pd

    attention = pd.read_csv(
        workdir / "results/tables/attention.tsv", sep="\t", keep_default_na=False, na_values=["NaN"]
    )
    # masked minus unmasked
    assert set(attention.model) == {"facex"} and set(attention.variant) == {VARIANT}
    for png in targets[3:]:
        assert (workdir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # recomputed from scratch: the cache answers every request; the plan has nothing left
    snakemake(workdir, *maps, "--forcerun", "explain_vendor", env=env)
    assert fake.count() == before
    again = load_explanations(workdir / maps[0])
    assert again["meta"]["n_calls"] == 0 and np.array_equal(again["maps"], e["none"]["maps"])
    assert _plan(workdir, env)[0] == {"none": (0, 0.0), VARIANT: (0, 0.0)}


def test_the_plan_prices_the_maps_of_exactly_the_jobs_snakemake_plans_and_skips_without_credentials(
    tmp_path, monkeypatch
):
    from workflow_support import snakemake as run_snakemake
    from workflow_support import write_config

    monkeypatch.setenv("FACE_APIKEY", "k")

    def edit(cfg):
        cfg["models"] = ["dlib", "azure"]
        cfg["vendors"]["azure"]["endpoint"] = "https://x.example"
        cfg["masks"]["grid"] = {"kinds": ["n95", "kn95"], "colours": ["blue", "#112233"]}

    write_config(tmp_path, edit)
    out = run_snakemake(tmp_path, "--dry-run").stdout
    jobs = {
        tuple(
            dict(kv.split("=", 1) for kv in re.search(r"wildcards: (.*)", b).group(1).split(", "))[
                k
            ]
            for k in ("model", "dataset", "variant")
        )
        for b in out.split("\nrule ")[1:]
        if b.startswith("explain_vendor:")
    }
    compare = {
        tuple(
            dict(kv.split("=", 1) for kv in re.search(r"wildcards: (.*)", b).group(1).split(", "))[
                k
            ]
            for k in ("model", "dataset", "variant")
        )
        for b in out.split("\nrule ")[1:]
        if b.startswith("compare_vendor:")
    }
    assert jobs == compare and len(jobs) == 1 + 3 + 4  # a map job beside every comparison job
    monkeypatch.delenv("FACE_APIKEY")
    monkeypatch.delenv("FACE_ENDPOINT", raising=False)
    proc = run_snakemake(tmp_path, "--dry-run")
    assert "skipping vendor 'azure'" in proc.stderr and "explain_vendor" not in proc.stdout
