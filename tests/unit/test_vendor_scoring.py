"""Scoring a comparison-only system: 1:1 from ``similarity``, 1:N from the array the sidecar points at.

Synthetic comparisons files (no vendor, no network): the 1:1 array holds only the sampled pairs, the
vendor's search answers are a separate array, and a not-run 1:N is reported as not run, never as
hits or misses.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from maskaudit.protocol import files
from maskaudit.protocol.layout import build_layout
from maskaudit.protocol.score import ScoreOptions, score_variant
from maskaudit.protocol.sources import from_comparisons
from maskaudit.protocol.stage import identification_columns
from maskaudit.protocol.thresholds import baseline_thresholds
from maskaudit.stats.measures import probe_codes, variant_measures
from maskaudit.tables import MetricsSettings, audit_tables

IDS = ["a1", "a2", "b1", "b2", "c1"]
VARIANT = {"id": "surgical-blue", "kind": "surgical", "colour": "blue"}
NAN = np.nan


def _manifest():
    return pd.DataFrame(
        {
            "image_id": IDS,
            "path": [""] * 5,
            "identity": ["A", "A", "B", "B", "C"],
            "gender": ["female", "female", "male", "male", "female"],
            "race": ["Black", "Black", "White", "White", "White"],
            "age": [""] * 5,
            "source": [""] * 5,
            "licence": [""] * 5,
        }
    )


# 1:1 scores the vendor was asked for: re-identification (diagonal), mated pairs and one impostor per
# probe. a1's one sampled impostor (c1) is low, so ranking 1:N from this array would put a1's mate first.
SIM = np.array(
    [
        [95, 80, NAN, NAN, 10],
        [85, 97, 20, NAN, NAN],
        [NAN, NAN, 96, 88, 15],
        [12, NAN, 70, 94, NAN],
        [NAN, 5, NAN, NAN, 99],
    ],
    dtype=np.float32,
)
# the vendor's own search, top 2 candidates: a1's search returns b1 above its mate a2
SEARCH = np.array(
    [
        [NAN, 80, 90, NAN, NAN],
        [85, NAN, NAN, NAN, 30],
        [NAN, NAN, NAN, 88, 40],
        [NAN, NAN, 70, NAN, 60],
        [NAN, 50, 45, NAN, NAN],
    ],
    dtype=np.float32,
)


def _write(
    tmp_path, identification, sim=SIM, search=SEARCH, search_probe=None, planned=None, name="v"
):
    arrays = {
        "probe_id": np.array(IDS),
        "gallery_id": np.array(IDS),
        "similarity": sim,
        "raw_score": sim,
        "probe_status": np.array(["ok"] * 5),
        "gallery_status": np.array(["ok"] * 5),
        "search_similarity": search,
        "search_probe_status": np.array(search_probe or ["ok"] * 5),
        "search_gallery_status": np.array(["ok"] * 5),
    }
    if planned is not None:
        arrays["planned"] = planned
    np.savez(tmp_path / f"{name}.npz", **arrays)
    meta = {
        "system": "fakevendor",
        "similarity_scale": "0-100",
        "raw_direction": "higher_is_same",
        "threshold": 80.0,
        "threshold_source": "vendor default",
        "n_calls": 0,
        "cached_calls": 0,
    }
    if identification is not None:
        meta["identification"] = identification
    (tmp_path / f"{name}.json").write_text(json.dumps(meta))
    return from_comparisons(tmp_path / f"{name}.npz")


def _run(source, baseline=False, **opts):
    layout = build_layout(
        source.probe_ids,
        source.probe_status,
        source.gallery_ids,
        source.gallery_status,
        _manifest(),
        baseline=baseline,
    )
    opts.setdefault("rank_k", 2)
    return layout, score_variant(source, layout, {}, ScoreOptions(**opts))


SEARCHED = {
    "method": "vendor_search",
    "array": "search_similarity",
    "top_k": 2,
    "reason": "own search",
}
NOT_RUN = {
    "method": "not_run",
    "array": None,
    "reason": "vendors.fakevendor.identification is none",
}


def test_identification_ranks_come_from_the_search_array_not_the_sampled_pairs(tmp_path):
    src = _write(tmp_path, SEARCHED)
    layout, r = _run(src, thresholds={"default": 80.0})
    ident = files.identification_frame(r, layout, src, _manifest(), VARIANT).set_index("probe_id")
    # a1: search returned b1 (90) above its mate a2 (80): rank 2 (the sampled 1:1 pairs alone said rank 1)
    assert ident.mate_rank["a1"] == 2 and ident.top_subjects["a1"] == "B;A"
    # a2: mate a1 (85) first; b2: mate b1 (70) above C (60)
    assert ident.mate_rank["a2"] == 1 and ident.mate_rank["b2"] == 1
    assert ident.search["c1"] == "non_mated" and ident.best_nonmate_score["c1"] == 50
    # verification and re-identification still read the 1:1 array
    np.testing.assert_allclose(r.pairs.reid, np.diag(SIM))
    mated = dict(zip(zip(r.pairs.mated_probe, r.pairs.mated_gallery), r.pairs.mated))
    assert mated[(0, 1)] == 80 and mated[(3, 2)] == 70
    # impostors: only the compared non-mated cells, never the search answers
    assert r.impostors["trials"].sum() == 5
    assert r.reference.n_impostor == 5
    # the same file read as if 1:N came from the 1:1 array is the optimistic reading the pointer avoids
    sim_src = _write(tmp_path, {"method": "compare_matrix", "array": "similarity"}, name="m")
    _, r2 = _run(sim_src)
    assert r2.search.closed["mate_rank"][0] == 1


def test_search_failures_are_charged_to_the_search_and_not_the_1to1_rows(tmp_path):
    src = _write(tmp_path, SEARCHED, search_probe=["ok", "vendor_no_face", "ok", "ok", "ok"])
    layout, r = _run(src)
    ident = files.identification_frame(r, layout, src, _manifest(), VARIANT).set_index("probe_id")
    assert np.isnan(ident.mate_rank["a2"]) and ident.fta_reason["a2"] == "vendor_no_face"
    assert ident.fta_origin["a2"] == "vendor"
    reid = files.reidentification_frame(r, layout, src, _manifest(), VARIANT).set_index("probe_id")
    assert reid.fta_reason["a2"] == "" and reid.score["a2"] == 97


def test_not_run_identification_is_neither_hit_nor_miss(tmp_path):
    src = _write(tmp_path, NOT_RUN)
    assert src.identification == "not_run" and "identification is none" in src.identification_reason
    layout, r = _run(src, thresholds={"default": 80.0})
    ident = files.identification_frame(r, layout, src, _manifest(), VARIANT)
    assert set(ident.search) == {"not_run"} and set(ident.open_search) == {"not_run"}
    assert ident.mate_rank.isna().all() and ident.open_best_nonmate_score.isna().all()
    cols = identification_columns(r)
    assert cols == {
        "identification_source": "not_run",
        "identification_reason": "vendors.fakevendor.identification is none",
    }
    np.testing.assert_allclose(r.pairs.reid, np.diag(SIM))  # 1:1 is unaffected

    # measures: the identification rows have no trials at all (not misses, not correct rejections)
    scores = {
        "reid": files.reidentification_frame(r, layout, src, _manifest(), VARIANT),
        "verification": files.verification_frame(r, layout, src, _manifest(), VARIANT),
        "identification": ident.assign(**cols),
        "impostors": r.impostors,
    }
    ids = [str(x) for x in r.impostors["identity"]]
    meas = variant_measures(
        scores, probe_codes(scores, ids), len(ids), {"default": 80.0}, {"default": 80.0}, 2
    )
    by = {(c, m): counts for c, m, _, _, _, counts in meas.items}
    for m in ("rank1", "rank2", "fnir", "fpir"):
        assert by[("identification", m)].trials.sum() == 0, m
    assert by[("reidentification", "reid_rate")].trials.sum() == 5

    # thresholds: the open-set ones are unsupported, with the reason
    _, base = _run(src, baseline=True, tail_k=10)
    thr = baseline_thresholds(base, src, [0.1], [0.1], layout.probe_ok)
    assert all(
        not row["supported"] and np.isnan(row["similarity"]) and "1:N not run" in row["reason"]
        for row in thr["identification"]
    )
    assert thr["verification"][0]["supported"]

    # tables: NaN identification values with the reason in a note column
    thr.update(model="fakevendor", dataset="toy")
    tables = audit_tables(
        [{"id": "none", "kind": "none", "colour": "none"}],
        {"none": scores},
        _manifest(),
        thr,
        labels={"model": "fakevendor", "dataset": "toy"},
        dataset="toy",
        settings=MetricsSettings(seed=0, n_boot=5, n_perm=5, rank_k=2),
    )
    rates = tables["rates"]
    idr = rates[rates.comparison == "identification"]
    assert len(idr) and idr.value.isna().all() and (idr.trials == 0).all()
    assert idr.note.str.startswith("1:N not run: vendors.fakevendor.identification is none").all()
    assert (rates[rates.comparison != "identification"].note == "").all()


def test_failed_impostors_count_only_the_cells_the_vendor_was_asked_for(tmp_path):
    planned = ~np.isnan(SIM)
    sim = SIM.copy()
    sim[4] = NAN  # c1 failed at the vendor: none of its cells has a score
    src = _write(tmp_path, SEARCHED, sim=sim, planned=planned)
    src.probe_status = np.array(["ok", "ok", "ok", "ok", "vendor_no_face"], dtype=object)
    _, r = _run(src)
    # c1 was asked for one non-mated cell (vs a2) besides its own original (re-identification)
    assert r.impostors["failures"].sum() == 1
    src_all = _write(tmp_path, SEARCHED, sim=sim, name="all")
    src_all.probe_status = src.probe_status
    _, r_all = _run(src_all)
    assert r_all.impostors["failures"].sum() == 4  # without the plan: every non-mated cell of c1


def test_collected_tables_give_other_systems_an_empty_note():
    from maskaudit.tables import collect

    a = pd.DataFrame({"model": ["dlib"], "attribute": ["overall"], "value": [0.5]})
    b = pd.DataFrame(
        {
            "model": ["facex"],
            "attribute": ["overall"],
            "value": [np.nan],
            "note": ["1:N not run: x"],
        }
    )
    out = collect([a, b], "overall")
    assert out.note.tolist() == ["", "1:N not run: x"]
    assert "note" not in collect([a, a])
