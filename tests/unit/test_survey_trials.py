"""Survey trials keep the identification protocol's rules; machines answer them from real caches."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from maskaudit.survey.machines import answer, score_trials
from maskaudit.survey.trials import NONE, Design, build_trials, check_trial

CELLS = [("female", "Black"), ("female", "White"), ("male", "Black"), ("male", "White")]


def dataset(identities_per_cell=4, photos=3):
    rows, proto = [], []
    for gender, race in CELLS:
        for i in range(identities_per_cell):
            ident = f"{gender}_{race}_{i}"
            for j in range(photos):
                image = f"{ident}_{j}"
                rows.append(
                    {
                        "image_id": image,
                        "path": f"{image}.jpg",
                        "identity": ident,
                        "gender": gender,
                        "race": race,
                        "age": "",
                        "source": "",
                        "licence": "",
                    }
                )
                # photo 0 and 1 of every identity are the same picture (near-duplicates)
                dup = {0: f"{ident}_1", 1: f"{ident}_0"}.get(j, "")
                proto.append(
                    {
                        "image_id": image,
                        "identity": ident,
                        "near_duplicates": dup,
                        "open_set": "held_out" if i == 0 else "gallery",
                    }
                )
    manifest, protocol = pd.DataFrame(rows), pd.DataFrame(proto)
    ok = pd.DataFrame({"image_id": manifest.image_id, "status": "ok"})
    return manifest, protocol, ok


def build(design=None, masked=None):
    manifest, protocol, ok = dataset()
    design = design or Design(
        variants=("surgical-blue", "n95-white"), candidates=4, per_cell=2, attention=3, seed=7
    )
    masked = masked or {"none": ok, "surgical-blue": ok, "n95-white": ok}
    return manifest, protocol, *build_trials(manifest, protocol, masked, design, "toy")


def test_trials_keep_the_protocol_and_are_balanced():
    manifest, protocol, key, plan = build()
    assert key.apply(check_trial, axis=1).map(len).sum() == 0
    dup = dict(zip(protocol.image_id, protocol.near_duplicates))
    split = dict(zip(protocol.identity, protocol.open_set))
    for t in key[key.kind != "attention"].itertuples():
        cands = t.candidate_ids.split(";")
        # never its original or a near-duplicate
        assert t.probe_id not in cands and (dup[t.probe_id] not in cands)
        assert all(split[i] == "gallery" for i in t.candidate_identities.split(";"))
        assert len(cands) == 4
    counts = (
        key[key.kind != "attention"]
        .groupby(["probe_gender", "probe_race", "variant", "kind"])
        .size()
    )
    # every cell x variant x kind: exactly per_cell
    assert len(counts) == 4 * 2 * 2 and set(counts) == {2}
    assert (key.kind == "attention").sum() == 3 and set(plan.built) == {2, 3}
    # each masked probe image at most once per variant
    assert not key[key.kind != "attention"].duplicated(["variant", "probe_id"]).any()
    # closed answers spread over positions (the mate is not always in one place)
    assert key[key.kind == "closed"].answer.nunique() > 1 and set(
        key[key.kind == "open"].answer
    ) == {NONE}
    # distractors are demographically matched first: 3 other identities in each cell's gallery
    assert (key[key.kind == "closed"].matched_distractors == 2).all()


def test_same_config_same_trials_and_another_seed_others():
    assert build()[2].equals(build()[2])
    other = build(
        Design(
            variants=("surgical-blue", "n95-white"), candidates=4, per_cell=2, attention=3, seed=8
        )
    )[2]
    assert not other.trial_id.equals(build()[2].trial_id)


def test_shortfall_is_reported_not_silent():
    manifest, protocol, ok = dataset()
    failed = ok.assign(
        status=np.where(ok.image_id.str.startswith("female_Black"), "mask_render_failed", "ok")
    )
    _, _, key, plan = build(masked={"none": ok, "surgical-blue": failed, "n95-white": ok})
    row = plan[
        (plan.gender == "female") & (plan.race == "Black") & (plan.variant == "surgical-blue")
    ]
    assert set(row.built) == {0} and set(row.eligible) == {0} and set(row.requested) == {2}
    assert not (
        (key.variant == "surgical-blue")
        & (key.probe_race == "Black")
        & (key.probe_gender == "female")
    ).any()


def test_bad_designs_fail_with_a_message():
    with pytest.raises(ValueError, match="at least 2 candidates"):
        Design(variants=("a",), candidates=1)
    with pytest.raises(ValueError, match="'none'"):
        Design(variants=("none",))
    manifest, protocol, ok = dataset()
    with pytest.raises(ValueError, match="no masked images"):
        build_trials(manifest, protocol, {"none": ok}, Design(variants=("cloth-red",)), "toy")


def test_machine_answer_rule():
    assert answer(np.array([0.1, 0.9, 0.5]), 0.5) == 1
    assert answer(np.array([0.1, 0.4, 0.2]), 0.5) == NONE
    assert answer(np.array([0.7, 0.7]), 0.7) == 0  # ties: accept iff s >= t, earlier position
    assert answer(np.array([np.nan, 0.6]), 0.5) == 1
    assert answer(np.array([np.nan, np.nan]), 0.5) is None


def test_a_system_answers_from_a_comparisons_file_and_failures_are_charged(tmp_path):
    key = pd.DataFrame(
        [
            {
                "trial_id": "t1",
                "kind": "closed",
                "variant": "v",
                "probe_id": "p1",
                "candidate_ids": "g1;g2;g3",
            },
            {
                "trial_id": "t2",
                "kind": "open",
                "variant": "v",
                "probe_id": "p2",
                "candidate_ids": "g1;g2;g3",
            },
            {
                "trial_id": "t3",
                "kind": "open",
                "variant": "v",
                "probe_id": "p3",
                "candidate_ids": "g1;g2;g3",
            },
            {
                "trial_id": "t4",
                "kind": "attention",
                "variant": "none",
                "probe_id": "g1",
                "candidate_ids": "g1;g2;g3",
            },
        ]
    )
    sim = np.array([[0.2, 0.9, 0.1], [0.3, 0.2, 0.4], [np.nan, np.nan, np.nan]], dtype=np.float32)
    npz = tmp_path / "v.npz"
    np.savez(
        npz,
        probe_id=np.array(["p1", "p2", "p3"]),
        gallery_id=np.array(["g1", "g2", "g3"]),
        similarity=sim,
        probe_status=np.array(["ok", "ok", "vendor_no_face"]),
        gallery_status=np.array(["ok", "ok", "ok"]),
    )
    npz.with_suffix(".json").write_text(
        json.dumps(
            {
                "system": "acme",
                "similarity_scale": "0-1",
                "raw_direction": "higher_is_same",
                "threshold": 0.5,
                "threshold_source": "vendor",
            }
        )
    )
    thresholds = {
        "model": "acme",
        "identification": [{"name": "default", "supported": True, "similarity": 0.5}],
    }
    out = score_trials(
        key,
        {"v": {"comparisons": str(npz), "comparisons_sidecar": str(npz.with_suffix(".json"))}},
        None,
        thresholds,
        "default",
        "acme",
    ).set_index("trial_id")
    assert list(out.index) == ["t1", "t2", "t3"]  # attention checks are for people only
    assert out.choice.tolist() == ["1", "-1", ""]
    assert (
        out.loc["t3", "fta_reason"] == "vendor_no_face" and out.loc["t3", "fta_origin"] == "vendor"
    )
    assert out.loc["t1", "scores"] == "0.200000;0.900000;0.100000"
    with pytest.raises(ValueError, match="unsupported"):
        score_trials(
            key,
            {},
            None,
            {"identification": [{"name": "fpir_0.01", "supported": False, "reason": "few"}]},
            "fpir_0.01",
            "acme",
        )


def test_duplicates_across_identities_are_never_shown_together_and_calibration_identities_never_probe():
    manifest, protocol, ok = dataset()
    # the duplicate screen found male_White_1_2 to be the same picture as every female_Black probe
    fb = protocol.identity.str.startswith("female_Black")
    protocol["duplicates_across"] = np.where(fb, "male_White_1_2", "")
    protocol["calibration"] = np.where(protocol.identity == "male_Black_1", "calibration", "audit")
    design = Design(variants=("surgical-blue",), candidates=4, per_cell=3, attention=3, seed=7)
    key, _ = build_trials(manifest, protocol, {"none": ok, "surgical-blue": ok}, design, "toy")
    shown_with_fb = (
        key[key.probe_identity.str.startswith("female_Black")]
        .candidate_ids.str.split(";")
        .explode()
    )
    assert len(shown_with_fb) > 0 and "male_White_1_2" not in set(shown_with_fb)
    assert "male_Black_1" not in set(key.probe_identity[key.kind != "attention"])
