"""The scoring protocol (maskaudit.protocol) against hand-worked answers and brute-force loops.

Every check runs through the same code path the workflow uses: a SimilaritySource (embedding caches
or a comparisons file), the Layout, and the chunked score_variant pass.
"""

import json

import numpy as np
import pandas as pd
import pytest

from maskaudit.models import ModelCard
from maskaudit.protocol import files
from maskaudit.protocol.fta import fta_origin, pair_failure
from maskaudit.protocol.layout import build_layout
from maskaudit.protocol.near_duplicates import near_duplicate_map, near_duplicate_pairs
from maskaudit.protocol.open_set import held_out_identities
from maskaudit.protocol.pairs import mated_pairs
from maskaudit.protocol.reference import distance_matrix
from maskaudit.protocol.score import ScoreOptions, score_variant
from maskaudit.protocol.sources import from_comparisons, from_embeddings
from maskaudit.protocol.thresholds import fixed_thresholds, tail_size, threshold_from_tail
from maskaudit.stats import verification as M

CARD = ModelCard(
    id="toy",
    name="toy",
    dim=2,
    metric="euclidean",
    threshold=0.5,
    threshold_source="test",
    factory="x:y",
)
VARIANT = {"id": "surgical-blue", "kind": "surgical", "colour": "blue"}


def _manifest():
    return pd.DataFrame(
        {
            "image_id": ["a1", "a2", "b1", "c1"],
            "path": [""] * 4,
            "identity": ["A", "A", "B", "C"],
            "gender": ["female", "female", "male", "female"],
            "race": ["Black", "Black", "White", "White"],
            "age": ["", "", "", ""],
            "source": [""] * 4,
            "licence": [""] * 4,
        }
    )


def _caches():
    ids = ["a1", "a2", "b1", "c1"]
    refs = np.array([[0, 0], [0.3, 0], [1, 0], [0, 1]], float)
    # a2's masked copy drifts to b1
    probes = np.array([[0.1, 0], [0.9, 0], [np.nan, np.nan], [0, 0.6]], float)
    return (ids, probes, ["ok", "ok", "no_face", "ok"]), (ids, refs, ["ok"] * 4)


def _run(source, manifest, baseline=False, dup=None, **opts):
    layout = build_layout(
        source.probe_ids,
        source.probe_status,
        source.gallery_ids,
        source.gallery_status,
        manifest,
        baseline=baseline,
    )
    return layout, score_variant(source, layout, dup or {}, ScoreOptions(**opts))


# --------------------------------------------------------------------------- seams
def test_fta_origin_by_prefix():
    assert [
        fta_origin(r)
        for r in [
            "ok",
            "",
            "model_no_face",
            "vendor_unavailable",
            "mask_render_failed",
            "no_face",
            "multiple_faces",
            "unreadable",
            "missing_file",
            "too_large",
        ]
    ] == ["", "", "model", "vendor", "mask", "dataset", "dataset", "dataset", "dataset", "dataset"]
    reason, side = pair_failure(["ok", "mask_render_failed", "ok"], ["no_face", "no_face", "ok"])
    assert reason.tolist() == ["no_face", "mask_render_failed", ""]
    assert side.tolist() == ["reference", "probe", ""]


def test_similarity_scale_and_raw_values():
    probes, refs = _caches()
    src = from_embeddings(probes, refs, CARD)
    block = src.block(np.arange(4))
    expect = -distance_matrix(probes[1], refs[1], "euclidean")
    np.testing.assert_allclose(block, expect, atol=1e-6)  # float32 chunks vs float64 reference
    assert (
        src.threshold == -0.5 and src.threshold_raw == 0.5 and src.raw_direction == "lower_is_same"
    )
    cos = ModelCard(
        id="c", name="c", dim=2, metric="cosine", threshold=0.3, threshold_source="t", factory="x:y"
    )
    csrc = from_embeddings(probes, (refs[0], refs[1] + [1, 1], refs[2]), cos)
    cexp = 1 - distance_matrix(probes[1], refs[1] + [1, 1], "cosine")
    np.testing.assert_allclose(csrc.block(np.arange(4)), cexp, atol=1e-6)
    assert csrc.threshold == pytest.approx(0.7) and csrc.to_raw(np.array([0.7]))[
        0
    ] == pytest.approx(0.3)


# --------------------------------------------------------------------------- pairs
def test_mated_pairs_vectorised_match_brute_force():
    rng = np.random.default_rng(0)
    ident = rng.integers(0, 6, 40).astype(str)
    manifest = pd.DataFrame(
        {
            "image_id": [f"i{k}" for k in range(40)],
            "identity": ident,
            "gender": "x",
            "race": "y",
            "age": "",
        }
    )
    ids = manifest.image_id.tolist()
    for baseline in (False, True):
        layout = build_layout(ids, ["ok"] * 40, ids, ["ok"] * 40, manifest, baseline=baseline)
        p, g = mated_pairs(layout)
        got = set(zip(p.tolist(), g.tolist()))
        brute = {
            (i, j)
            for i in range(40)
            for j in range(40)
            if i != j and ident[i] == ident[j] and (not baseline or j > i)
        }
        assert got == brute
        assert len(got) == len(p)  # each pair once


def test_reidentification_verification_and_fta_rows():
    probes, refs = _caches()
    src = from_embeddings(probes, refs, CARD)
    m = _manifest()
    layout, r = _run(src, m, thresholds={"default": -0.5}, rank_k=2, chunk=3)
    reid = files.reidentification_frame(r, layout, src, m, VARIANT)
    assert reid.probe_id.tolist() == reid.ref_id.tolist() == ["a1", "a2", "b1", "c1"]
    np.testing.assert_allclose(reid.raw_score.to_numpy()[[0, 1, 3]], [0.1, 0.6, 0.4], atol=1e-6)
    assert reid.decision.tolist() == ["match", "non_match", "fta", "match"]
    assert reid.fta_reason.tolist() == ["", "", "no_face", ""] and reid.fta_origin[2] == "dataset"
    assert (reid.threshold == -0.5).all() and (reid.threshold_raw == 0.5).all()
    ver = files.verification_frame(r, layout, src, m, VARIANT)
    # masked a1 vs unmasked a2 (0.2) and masked a2 vs unmasked a1 (0.9): two different comparisons
    assert list(zip(ver.probe_id, ver.ref_id)) == [("a1", "a2"), ("a2", "a1")]
    np.testing.assert_allclose(ver.raw_score, [0.2, 0.9], atol=1e-6)
    assert set(ver.comparison) == {"mated"}


def test_near_duplicates_leave_the_mated_set_and_the_gallery():
    probes, refs = _caches()
    src = from_embeddings(probes, refs, CARD)
    m = _manifest()
    dup = {"a1": {"a2"}, "a2": {"a1"}}
    layout, r = _run(src, m, dup=dup, thresholds={"default": -0.5}, rank_k=2)
    ver = files.verification_frame(r, layout, src, m, VARIANT)
    assert set(ver.comparison) == {"near_duplicate"}
    ident = files.identification_frame(r, layout, src, m, VARIANT).set_index("probe_id")
    # a1's only other photo is its near-duplicate: no mate left, so a non-mated search
    assert ident.search["a1"] == "non_mated" and np.isnan(ident.mate_rank["a1"])


# --------------------------------------------------------------------------- identification
def test_identification_excludes_self_and_ranks_identities():
    probes, refs = _caches()
    src = from_embeddings(probes, refs, CARD)
    m = _manifest()
    layout, r = _run(src, m, rank_k=2)
    ident = files.identification_frame(r, layout, src, m, VARIANT).set_index("probe_id")
    # a1 (0.1, 0): own original left out; mate a2 at 0.2 beats B (0.9), C (1.005): rank 1
    # a2 (0.9, 0): mate a1 at 0.9, B at 0.1: rank 2.  c1: no other photo -> non-mated search.
    assert ident.mate_rank["a1"] == 1 and ident.mate_rank["a2"] == 2
    assert ident.search.tolist() == [
        "mated",
        "mated",
        "non_mated",
        "non_mated",
    ]  # B and C have one photo
    assert np.isnan(ident.mate_rank["b1"]) and ident.fta_reason["b1"] == "no_face"
    assert ident.top_subjects["a2"] == "B;A" and ident.top_subjects["c1"] == "A;B"
    assert not ident.self_in_gallery.any()
    # the study's reading: with the own original in the gallery c1 finds itself at rank 1
    layout, r = _run(src, m, rank_k=2, include_self=True)
    with_self = files.identification_frame(r, layout, src, m, VARIANT).set_index("probe_id")
    assert with_self.mate_rank["c1"] == 1 and with_self.self_in_gallery.all()


def _brute_identity_ranks(sim, p_ident, g_ident, self_col):
    ranks = []
    for i in range(sim.shape[0]):
        best = {}
        for j in range(sim.shape[1]):
            if j == self_col[i] or np.isnan(sim[i, j]):
                continue
            best[g_ident[j]] = max(best.get(g_ident[j], -np.inf), sim[i, j])
        if p_ident[i] not in best:
            ranks.append(np.nan)
            continue
        ranks.append(sum(1 for v in best.values() if v >= best[p_ident[i]]))
    return np.array(ranks, float)


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_random_scores_match_brute_force(chunk, tmp_path):
    rng = np.random.default_rng(11)
    n, n_id = 30, 8
    ident = np.sort(rng.integers(0, n_id, n))
    manifest = pd.DataFrame(
        {
            "image_id": [f"i{k:02d}" for k in range(n)],
            "identity": [f"P{x}" for x in ident],
            "gender": np.where(ident % 2, "male", "female"),
            "race": "r",
            "age": "",
        }
    )
    ids = manifest.image_id.tolist()
    sim = np.round(rng.normal(size=(n, n)), 1).astype(np.float32)  # many ties
    sim[3, :] = np.nan  # failed probe
    sim[[5, 9], [2, 4]] = np.nan  # not compared
    status = ["ok"] * n
    status[3] = "vendor_no_face"
    np.savez(
        tmp_path / "c.npz",
        probe_id=np.array(ids),
        gallery_id=np.array(ids),
        similarity=sim,
        probe_status=np.array(status),
        gallery_status=np.array(["ok"] * n),
    )
    (tmp_path / "c.json").write_text(
        json.dumps(
            {
                "system": "fake",
                "similarity_scale": "0-1",
                "raw_direction": "higher_is_same",
                "threshold": 0.5,
                "threshold_source": "doc",
                "n_calls": 1,
                "cached_calls": 0,
            }
        )
    )
    src = from_comparisons(tmp_path / "c.npz")
    t = 0.55
    layout, r = _run(src, manifest, thresholds={"default": t}, chunk=chunk, rank_k=3, tail_k=300)
    codes = layout.probe_ident
    brute = _brute_identity_ranks(sim, codes, layout.gallery_ident, np.arange(n))
    np.testing.assert_array_equal(r.search.closed["mate_rank"], brute)
    # impostors: every non-mated, compared pair, per identity pair, and false matches at t
    trials = np.zeros((n_id, n_id))
    fm = np.zeros((n_id, n_id))
    neg = []
    for i in range(n):
        for j in range(n):
            if codes[i] != codes[j] and not np.isnan(sim[i, j]):
                trials[codes[i], codes[j]] += 1
                fm[codes[i], codes[j]] += sim[i, j] >= t
                neg.append(sim[i, j])
    imp = r.impostors
    u = layout.identities.size
    np.testing.assert_array_equal(imp["trials"], trials[:u, :u])
    got = np.zeros((u, u))
    np.add.at(got, (imp["fm_probe"], imp["fm_ref"]), imp["fm_count"])
    np.testing.assert_array_equal(got, fm[:u, :u])
    assert r.reference.n_impostor == len(neg)
    np.testing.assert_array_equal(np.sort(imp["sample_score"]), np.sort(np.array(neg, np.float32)))
    # failures: the failed probe's row against every non-mated gallery image
    assert imp["failures"].sum() == sum(1 for j in range(n) if codes[j] != codes[3])
    # the tail accepts the same impostors as bob's rule on the full sorted set (the workflow's threshold
    # is a float32 number inside the gap, bob's the float64 number just above d[k]: issue 15)
    neg = np.array(neg, np.float32)
    for target in (0.05, 0.1, 0.3):
        tt, realised = threshold_from_tail(r.reference.tail, r.reference.n_impostor, target)
        np.testing.assert_array_equal(
            neg >= tt, neg.astype(float) >= M.fmr_threshold(neg.astype(float), target)
        )
        assert realised == np.count_nonzero(neg >= tt) / neg.size


def test_comparisons_file_and_embeddings_agree(tmp_path):
    """A vendor-style comparisons file built from the embeddings (NaN = not compared) scores the same."""
    probes, refs = _caches()
    emb = from_embeddings(probes, refs, CARD)
    sim = emb.block(np.arange(4)).astype(np.float32)
    sim[0, 3] = np.nan  # the vendor never compared a1 with c1
    np.savez(
        tmp_path / "v.npz",
        probe_id=np.array(probes[0]),
        gallery_id=np.array(refs[0]),
        similarity=sim,
        probe_status=np.array(["ok", "ok", "vendor_no_face", "ok"]),
        gallery_status=np.array(["ok"] * 4),
    )
    (tmp_path / "v.json").write_text(
        json.dumps(
            {
                "system": "fake",
                "similarity_scale": "-distance",
                "raw_direction": "lower_is_same",
                "threshold": -0.5,
                "threshold_source": "doc",
                "n_calls": 12,
                "cached_calls": 0,
            }
        )
    )
    vendor = from_comparisons(tmp_path / "v.npz")
    m = _manifest()
    la, ra = _run(emb, m, thresholds={"default": -0.5}, rank_k=2)
    lb, rb = _run(vendor, m, thresholds={"default": -0.5}, rank_k=2)
    np.testing.assert_allclose(ra.pairs.reid, rb.pairs.reid)
    np.testing.assert_array_equal(ra.search.closed["mate_rank"], rb.search.closed["mate_rank"])
    assert ra.impostors["trials"].sum() - rb.impostors["trials"].sum() == 1  # a1-c1 not compared
    reid = files.reidentification_frame(rb, lb, vendor, m, VARIANT)
    assert reid.fta_origin.tolist() == ["", "", "vendor", ""]
    np.testing.assert_allclose(reid.raw_score[[0, 1, 3]], [0.1, 0.6, 0.4], atol=1e-6)


def test_comparisons_file_errors_name_the_problem(tmp_path):
    np.savez(tmp_path / "bad.npz", probe_id=np.array(["a"]), gallery_id=np.array(["a"]))
    with pytest.raises(ValueError, match="missing array"):
        from_comparisons(tmp_path / "bad.npz")


def test_baseline_counts_each_unordered_pair_once():
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(6, 4))
    ids = [f"i{k}" for k in range(6)]
    manifest = pd.DataFrame(
        {
            "image_id": ids,
            "identity": ["A", "A", "B", "B", "C", "D"],
            "gender": "x",
            "race": "y",
            "age": "",
        }
    )
    src = from_embeddings((ids, vecs, ["ok"] * 6), (ids, vecs, ["ok"] * 6), CARD)
    layout, r = _run(src, manifest, baseline=True)
    assert r.reference.n_impostor == 6 * 5 // 2 - 2  # C(6,2) minus the two mated pairs
    assert r.pairs.mated_probe.size == 2


# --------------------------------------------------------------------------- thresholds, near duplicates, open set
def test_thresholds_unsupported_below_ten_over_fmr():
    neg = np.sort(np.random.default_rng(1).normal(size=999))[::-1]
    rows = fixed_thresholds(neg[: tail_size([0.01, 0.1], 999)], 999, [0.01, 0.1])
    assert (
        not rows[0]["supported"]
        and np.isnan(rows[0]["similarity"])
        and "< 1000" in rows[0]["reason"]
    )
    # scores are float32; bob's rule on them accepts the same impostors
    neg32 = neg.astype(np.float32)
    assert rows[1]["supported"]
    bob = M.fmr_threshold(neg32.astype(float), 0.1)  # a float64 number: compared in float64
    assert (
        np.count_nonzero(neg32 >= rows[1]["similarity"])
        == np.count_nonzero(neg32.astype(float) >= bob)
        == 99
    )
    assert rows[1]["realised"] <= 0.1


def test_near_duplicate_pairs_only_within_identity():
    grey = np.random.default_rng(0).normal(size=(32, 32))
    full = np.ones((32, 32), bool)
    left = full.copy()
    left[:, 20:] = False  # a crop: part of the chip is outside the image
    sigs = {
        "x1": (grey, full),
        "x2": (grey + 0.05 * np.random.default_rng(1).normal(size=(32, 32)), left),
        "x3": (np.random.default_rng(2).normal(size=(32, 32)), full),
        "y1": (grey, full),
    }
    pairs = near_duplicate_pairs(
        ["x1", "x2", "x3", "y1"], ["X", "X", "X", "Y"], sigs, min_correlation=0.8, min_overlap=0.4
    )
    # y1 is identical but another identity
    assert list(zip(pairs.image_a, pairs.image_b)) == [("x1", "x2")]
    assert near_duplicate_map(pairs) == {"x1": {"x2"}, "x2": {"x1"}}


def test_open_set_holdout_is_seeded():
    ids = [f"p{k}" for k in range(20)]
    a = held_out_identities(ids, 0.2, 7, "demo")
    assert len(a) == 4 and a == held_out_identities(ids, 0.2, 7, "demo")
    assert a != held_out_identities(ids, 0.2, 8, "demo")
    assert held_out_identities(ids, 0.0, 7, "demo") == set()
