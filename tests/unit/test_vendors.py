"""Vendor plumbing without any network: cache, ledger and cap, rate limit, backoff, images, settings."""

import multiprocessing as mp
import os

import numpy as np
import pytest
import yaml
from conftest import REPO

from maskaudit.config import ConfigError, load_schema, validate_config
from maskaudit.vendors.budget import Cap, Ledger
from maskaudit.vendors.cache import ResponseCache, cache_key
from maskaudit.vendors.comparisons import load_comparisons, save_comparisons
from maskaudit.vendors.errors import BudgetExceeded
from maskaudit.vendors.images import Limits, prepare_array
from maskaudit.vendors.limits import TokenBucket, backoff_delay
from maskaudit.vendors.settings import usable_models


def base_config(**vendors):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    for name, over in vendors.items():
        cfg["vendors"][name].update(over)
    return cfg


def validated(cfg):
    return validate_config(cfg, load_schema(REPO / "workflow/schemas/config.schema.yaml"))


def test_cache_key_depends_on_everything_that_changes_an_answer():
    base = dict(endpoint="us-east-1", model="m", params={"t": 0}, images=["a", "b"])
    k = cache_key("rekognition", "compare", **base)
    assert k == cache_key("rekognition", "compare", **base)
    # source/target order
    assert k != cache_key("rekognition", "compare", **{**base, "images": ["b", "a"]})
    assert k != cache_key("rekognition", "compare", **{**base, "params": {"t": 80}})
    assert k != cache_key("rekognition", "compare", **{**base, "model": "m2"})
    assert k != cache_key("azure", "compare", **base)
    assert k != cache_key("rekognition", "search", **base, gallery="g")


def _append(args):
    folder, worker = args
    cache = ResponseCache(folder)
    for i in range(40):
        cache.put(f"{worker}-{i}", "facepp", "compare", {"status": "ok", "raw": float(i)})
    return worker


def test_cache_survives_parallel_appends(tmp_path):
    with mp.get_context("fork").Pool(4) as pool:
        pool.map(_append, [(str(tmp_path), w) for w in range(4)])
    cache = ResponseCache(tmp_path)
    assert cache.count() == 160
    assert cache.get("3-39") == {"status": "ok", "raw": 39.0}


def _charge(args):
    folder, n = args
    ledger, ok = Ledger(folder), 0
    for _ in range(n):
        try:
            ledger.charge("rekognition", "compare", 0.001, Cap(max_calls=50))
            ok += 1
        except BudgetExceeded:
            pass
    return ok


def test_cap_holds_across_parallel_processes(tmp_path):
    with mp.get_context("fork").Pool(4) as pool:
        granted = pool.map(_charge, [(str(tmp_path), 30)] * 4)
    assert sum(granted) == 50
    assert Ledger(tmp_path).spent("rekognition") == (50, pytest.approx(0.05))


def test_money_cap_refuses_the_call_that_would_exceed_it(tmp_path):
    ledger = Ledger(tmp_path)
    for _ in range(3):
        ledger.charge("azure", "detect", 0.001, Cap(max_usd=0.003))
    with pytest.raises(BudgetExceeded, match="max_usd"):
        ledger.charge("azure", "detect", 0.001, Cap(max_usd=0.003))
    assert ledger.spent("azure")[0] == 3


def test_token_bucket_paces_requests():
    now, slept = [0.0], []

    def sleep(s):
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(4.0, burst=2, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        bucket.acquire()
    assert now[0] == pytest.approx(1.0)  # 2 free (burst), then 4 at 4/s


def test_backoff_prefers_retry_after_and_caps():
    assert backoff_delay(1, base_s=0.5, cap_s=20, retry_after=3) == 3
    assert backoff_delay(9, base_s=0.5, cap_s=20, retry_after=99) == 20
    assert all(
        0 <= backoff_delay(a, base_s=0.5, cap_s=2) <= min(2, 0.5 * 2 ** (a - 1))
        for a in range(1, 8)
    )


def test_images_are_downscaled_to_the_vendors_limits_and_recorded():
    rng = np.random.default_rng(0)
    # noise: the hardest case for JPEG size
    big = rng.integers(0, 255, (900, 1500, 3), dtype=np.uint8)
    p = prepare_array(big, Limits(max_side=1024, max_bytes=200_000, min_side=48))
    assert len(p.data) <= 200_000 and max(p.record["sent"]) <= 1024
    assert p.record["downscaled"] and p.record["original"] == [1500, 900]
    small = prepare_array(big[:100, :100], Limits(max_side=4096, max_bytes=10**7, min_side=48))
    assert (
        not small.record["downscaled"]
        and small.data == prepare_array(big[:100, :100], Limits(4096, 10**7, 48)).data
    )
    from maskaudit.vendors.errors import ImageRejected

    with pytest.raises(ImageRejected) as info:
        prepare_array(big[:40, :40], Limits(max_side=4096, max_bytes=10**7, min_side=80))
    assert info.value.reason == "vendor_image_too_small"


def test_vendor_without_credentials_is_skipped_with_a_message(monkeypatch, capsys):
    for var in ("FACEX_USER_ID", "FACEPP_API_KEY", "FACEPP_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FACE_APIKEY", "k")
    cfg = validated(
        {
            **base_config(
                azure={"endpoint": "https://x.example"}, facex={"base_url": "https://fx.example"}
            ),
            "models": ["dlib", "azure", "facex", "facepp"],
        }
    )
    assert usable_models(cfg) == ["dlib", "azure"]
    err = capsys.readouterr().err
    assert (
        "skipping vendor 'facex': missing FACEX_USER_ID" in err
        and "skipping vendor 'facepp'" in err
    )
    assert "The rest of the audit runs" in err


def test_facex_refuses_plain_http(monkeypatch):
    from maskaudit.vendors.registry import credentials_problem

    monkeypatch.setenv("FACEX_USER_ID", "u")
    assert "not https" in credentials_problem("facex", {"base_url": "http://www.facexapi.com"})
    # loopback test server
    assert credentials_problem("facex", {"base_url": "http://127.0.0.1:9"}) is None


def test_config_errors_name_the_vendor_key():
    cfg = base_config(rekognition={"max_call": 5})
    with pytest.raises(
        ConfigError, match="vendors.rekognition.max_call' is not recognised.*max_calls"
    ):
        validated(cfg)
    with pytest.raises(ConfigError, match="vendors.facex.identification"):
        validated(base_config(facex={"identification": "everything"}))


def test_comparisons_file_roundtrip(tmp_path):
    arrays = {
        "probe_id": ["a", "b"],
        "gallery_id": ["a", "b", "c"],
        "raw_score": np.array([[1.0, np.nan, 0.2]] * 2),
        "probe_status": ["ok", "vendor_no_face"],
        "gallery_status": ["ok"] * 3,
        "search_probe_status": ["ok", "vendor_no_face"],
        "search_gallery_status": ["ok"] * 3,
    }
    arrays["similarity"] = -arrays["raw_score"]
    arrays["search_similarity"] = np.full((2, 3), np.nan)
    save_comparisons(tmp_path / "v.npz", arrays, {"system": "facex"})
    back, side = load_comparisons(tmp_path / "v.npz")
    assert back["similarity"].dtype == np.float32 and back["probe_status"] == [
        "ok",
        "vendor_no_face",
    ]
    assert np.isnan(back["similarity"][0, 1]) and side == {"system": "facex"}
    assert os.path.exists(tmp_path / "v.json")


def test_vendor_pairs_are_seeded_shared_and_count_baseline_pairs_once():
    from maskaudit.vendors.pairs import vendor_pairs

    ids = [f"i{k}" for k in range(8)]
    ident = ["a", "a", "a", "b", "c", "d", "e", "f"]
    masked = vendor_pairs(ids, ident, seed=7, dataset="d", impostors_per_probe=2, baseline=False)
    assert masked.equals(
        vendor_pairs(ids, ident, seed=7, dataset="d", impostors_per_probe=2, baseline=False)
    )
    counts = masked.comparison.value_counts().to_dict()
    assert counts == {"reidentification": 8, "mated": 6, "non_mated": 16}
    assert not (masked.comparison == "non_mated").any() or all(
        ident[ids.index(p)] != ident[ids.index(r)]
        for p, r in masked[masked.comparison == "non_mated"][["probe_id", "ref_id"]].values
    )
    base = vendor_pairs(ids, ident, seed=7, dataset="d", impostors_per_probe=2, baseline=True)
    pos = {i: k for k, i in enumerate(ids)}
    # each unordered pair once
    assert all(pos[p] <= pos[r] for p, r in zip(base.probe_id, base.ref_id))
    assert (base.comparison == "mated").sum() == 3 and (
        base.comparison == "reidentification"
    ).sum() == 8
    other = vendor_pairs(ids, ident, seed=8, dataset="d", impostors_per_probe=2, baseline=False)
    assert not other.equals(masked)  # the seed matters


def test_vendor_cards_are_comparison_systems_with_an_adapter():
    import importlib

    from maskaudit.models import REGISTRY
    from maskaudit.vendors import VENDORS
    from maskaudit.vendors.registry import _factory

    assert VENDORS == (
        "rekognition",
        "azure",
        "facepp",
        "facex",
    )  # read from the registry's comparison cards
    for vendor in VENDORS:
        card = REGISTRY[vendor]
        assert card.kind == "comparison" and card.threshold_source
        module, name = card.factory.split(":")
        assert _factory(vendor) == (module, name)
        assert getattr(importlib.import_module(module), name).vendor == vendor
        assert callable(importlib.import_module(module).credentials_message)
    with pytest.raises(KeyError, match="unknown vendor 'dlib'"):
        _factory("dlib")
    assert REGISTRY["facex"].threshold < 0  # a distance delivered as -distance
