"""Pairs, score files and per-group tables on small hand-made embeddings with known answers."""

import numpy as np
import pandas as pd
import pytest

from maskaudit.models import ModelCard
from maskaudit.pairs import verification_pairs
from maskaudit.scoring import distance_matrix, identification_scores, pair_distances, verification_scores
from maskaudit.tables import group_metrics

CARD = ModelCard(id="toy", name="toy", dim=2, metric="euclidean", threshold=0.5, threshold_source="test",
                 factory="x:y")
VARIANT = {"id": "surgical-blue", "kind": "surgical", "colour": "blue"}


def _manifest():
    return pd.DataFrame({
        "image_id": ["a1", "a2", "b1", "c1"], "path": [""] * 4, "identity": ["A", "A", "B", "C"],
        "gender": ["female", "female", "male", "female"], "race": ["Black", "Black", "White", "White"],
        "age": ["", "", "", ""], "source": [""] * 4, "licence": [""] * 4,
    })


def test_distance_matrix_matches_brute_force():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 7)), rng.normal(size=(4, 7))
    brute = np.array([[np.linalg.norm(x - y) for y in b] for x in a])
    assert np.allclose(distance_matrix(a, b, "euclidean"), brute)
    cos = np.array([[1 - x @ y / np.linalg.norm(x) / np.linalg.norm(y) for y in b] for x in a])
    assert np.allclose(distance_matrix(a, b, "cosine"), cos)
    assert np.allclose(pair_distances(a[:4], b, "cosine"), np.diag(cos[:4]))
    with pytest.raises(ValueError, match="unknown metric"):
        distance_matrix(a, b, "manhattan")


def test_pairs_cover_protocol_and_are_seeded():
    m = _manifest()
    pairs = verification_pairs(m, impostors_per_probe=2, seed=7, dataset="toy")
    assert (pairs.comparison == "same_image").sum() == 4
    assert set(map(tuple, pairs[pairs.comparison == "mated"][["probe_id", "ref_id"]].values)) == {("a1", "a2"), ("a2", "a1")}
    ident = m.set_index("image_id").identity
    imp = pairs[pairs.comparison == "non_mated"]
    assert len(imp) == 8 and (ident[imp.probe_id].values != ident[imp.ref_id].values).all()
    assert pairs.equals(verification_pairs(m, 2, 7, "toy"))
    others = [verification_pairs(m, 1, s, "toy") for s in range(6)]
    assert len({tuple(p.ref_id) for p in others}) > 1  # the seed matters


def _caches():
    ids = ["a1", "a2", "b1", "c1"]
    refs = np.array([[0, 0], [0.3, 0], [1, 0], [0, 1]], float)
    probes = np.array([[0.1, 0], [0.9, 0], [np.nan, np.nan], [0, 0.6]], float)  # a2's masked copy drifts to b1
    return (ids, probes, ["ok", "ok", "no_face", "ok"]), (ids, refs, ["ok"] * 4)


def test_verification_scores_decisions_and_fta():
    probes, refs = _caches()
    pairs = pd.DataFrame({"probe_id": ["a1", "a2", "b1", "a1", "c1"], "ref_id": ["a1", "a2", "b1", "b1", "c1"],
                          "comparison": ["same_image", "same_image", "same_image", "non_mated", "same_image"]})
    s = verification_scores(pairs, probes, refs, _manifest(), VARIANT, CARD)
    assert np.allclose(s.raw_score.to_numpy()[[0, 1, 3, 4]], [0.1, 0.6, 0.9, 0.4])
    assert s.decision.tolist() == ["match", "non_match", "fta", "non_match", "match"]
    assert s.fta_reason.tolist() == ["", "", "probe_no_face", "", ""]
    assert np.isnan(s.score[2]) and s.score[0] == pytest.approx(-0.1)
    assert s.probe_race.tolist()[:2] == ["Black", "Black"] and s.ref_subject[3] == "B"
    assert set(s.mask_kind) == {"surgical"} and set(s.ref_mask) == {"none"}


def test_identification_ranks_and_topk():
    probes, gallery = _caches()
    s = identification_scores(probes, gallery, _manifest(), VARIANT, CARD, rank_k=2)
    first = s.drop_duplicates("probe_id").set_index("probe_id")
    # a1 -> a1 (0.1) best: rank 1. a2 -> b1 (0.1) beats its mates a2 (0.6) and a1 (0.9): rank 2.
    # c1 -> c1 (0.4) vs a1 (0.6): rank 1. b1 failed: NaN.
    assert first.mate_rank["a1"] == 1 and first.mate_rank["a2"] == 2 and first.mate_rank["c1"] == 1
    assert np.isnan(first.mate_rank["b1"]) and first.fta_reason["b1"] == "probe_no_face"
    top = s[s.probe_id == "a2"]
    assert top.ref_id.tolist() == ["b1", "a2"] and top.is_mate.tolist() == [False, True]
    assert (s.gallery_size == 4).all()


def test_group_metrics_counts_fta_and_uses_same_group_impostors():
    probes, refs = _caches()
    m = _manifest()
    pairs = verification_pairs(m, impostors_per_probe=3, seed=1, dataset="toy")
    ver = verification_scores(pairs, probes, refs, m, VARIANT, CARD)
    ident = identification_scores(probes, refs, m, VARIANT, CARD, rank_k=2)
    rows = group_metrics(ver, ident, m, threshold=-0.5, fmr_target=0.01, rank_k=2).set_index(["attribute", "group"])
    overall = rows.loc[("overall", "all")]
    assert overall.n_images == 4 and overall.n_genuine == 6 and overall.n_impostor == 10
    # genuine: a1-a1 0.1 ok, a2-a2 0.6 miss, b1-b1 FtA, c1-c1 0.4 ok, a1-a2 0.2 ok, a2-a1 0.9 miss
    assert overall.fta_genuine == pytest.approx(1 / 6)
    assert overall.fnmr == pytest.approx(2 / 5)
    assert overall.frr == pytest.approx(1 / 6 + 2 / 5 * 5 / 6)
    assert overall.p1_accuracy == pytest.approx(2 / 4)  # b1's failure counts as a non-match
    assert overall.rank1 == pytest.approx(2 / 4)  # a1, c1 (a2 rank 2, b1 failed)
    assert overall.rank2 == pytest.approx(3 / 4)
    white = rows.loc[("race", "White")]
    assert white.n_images == 2 and white.n_genuine == 2  # b1-b1 (FtA) and c1-c1
    # same-group impostors only: White probe vs White reference (b1<->c1); b1 failed
    assert white.n_impostor == 2 and white.fta_impostor == pytest.approx(1 / 2)
    assert ("gender_race", "female/Black") in rows.index
