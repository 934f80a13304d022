"""The human-versus-machine analysis: known answers on hand-made responses, and its tests and intervals
proved by simulation (rejection rate at alpha under the null, coverage at the nominal rate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from maskaudit.stats.bootstrap import identity_weights
from maskaudit.survey.analysis import Analysis, cohen_kappa, group_gap
from maskaudit.survey.contrast import paired_contrast

KEY = pd.DataFrame(
    [
        # trial, kind, identity, gender, race, answer
        ("t1", "closed", "a1", "f", "A", 2),
        ("t2", "open", "a2", "f", "A", -1),
        ("t3", "closed", "b1", "m", "B", 0),
        ("t4", "open", "b2", "m", "B", -1),
        ("tatt", "attention", "a1", "f", "A", 1),
    ],
    columns=["trial_id", "kind", "probe_identity", "probe_gender", "probe_race", "answer"],
).assign(
    variant=lambda k: np.where(k.kind == "attention", "none", "v"),
    build="b1",
    dataset="toy",
    probe_id=lambda k: k.probe_identity + "_img",
)


def responses():
    rows = []

    def add(p, cond, answers, status="complete"):
        for pos, (t, c) in enumerate(answers.items()):
            rows.append(
                {
                    "participant": p,
                    "build": "b1",
                    "condition": cond,
                    "trial_id": t,
                    "position": str(pos),
                    "choice": "" if c == "timeout" else str(c),
                    "timed_out": "true" if c == "timeout" else "false",
                    "rt_ms": "1000",
                    "status": status,
                    "source": "synthetic",
                }
            )

    add("P1", "none", {"tatt": 1, "t1": 2, "t2": -1, "t3": 1, "t4": "timeout"})  # 2 of 4 right
    add("P2", "10s", {"tatt": 1, "t1": 2, "t2": 0, "t3": 0, "t4": -1})  # 3 of 4 right
    # failed the attention check
    add("P3", "none", {"tatt": 0, "t1": 2, "t2": -1, "t3": 0, "t4": -1})
    add("P4", "10s", {"tatt": 1, "t1": 2}, status="active")  # did not finish
    table = pd.DataFrame(rows)
    extra = [
        dict(rows[1], choice="0"),  # P1 answers t1 again
        dict(rows[1], trial_id="tffffffffffff"),  # a trial of no build
        dict(rows[2], participant="P5", choice="abc"),
    ]  # not a choice
    return pd.concat([table, pd.DataFrame(extra)], ignore_index=True)


MACHINE = pd.DataFrame({"trial_id": ["t1", "t2", "t3", "t4"], "choice": ["2", "", "0", "1"]})


@pytest.fixture(scope="module")
def tables():
    a = Analysis(
        KEY,
        responses(),
        {"acme": MACHINE},
        dataset="toy",
        seed=1,
        n_boot=200,
        n_perm=200,
        level=0.95,
        min_attention=1.0,
    )
    return a.tables()


def test_quality_counts_every_left_out_response(tables):
    q = tables["quality"].set_index("item")["count"].to_dict()
    assert q["responses"] == 17 + 3
    assert (q["unknown_trial"], q["duplicate"], q["invalid_choice"]) == (1, 1, 1)
    assert (q["incomplete"], q["failed_attention"], q["attention_checks"]) == (2, 5, 2)
    assert (
        q["responses_analysed"],
        q["participants_analysed"],
        q["participants_failed_attention"],
    ) == (8, 2, 1)
    assert q["timeouts_analysed"] == 1 and q["synthetic_responses"] == 20


def test_known_human_and_machine_accuracies(tables):
    acc = tables["accuracy"].set_index(["rater", "variant", "condition", "attribute", "group"])
    assert acc.loc[("humans", "all", "all", "overall", "all"), ["correct", "trials"]].tolist() == [
        5,
        8,
    ]
    assert acc.loc[("humans", "all", "all", "race", "A"), "accuracy"] == 0.75
    assert acc.loc[("humans", "all", "all", "race", "B"), "accuracy"] == 0.5
    assert acc.loc[("humans", "v", "none", "overall", "all"), "accuracy"] == 0.5
    assert acc.loc[("humans", "v", "10s", "overall", "all"), "accuracy"] == 0.75
    assert acc.loc[("humans", "all", "none", "overall", "all"), "timeouts"] == 1
    m = acc.loc[("acme", "all", "all", "overall", "all")]
    assert (m.accuracy, m.trials, m.fta) == (
        0.5,
        4,
        1,
    )  # a trial without an answer is wrong, and counted
    row = acc.loc[("humans", "all", "all", "overall", "all")]
    assert row.boot_low <= row.accuracy <= row.boot_high and row.n_units == 4


def test_known_paired_difference_and_agreement(tables):
    v = tables["versus"].set_index(["system", "variant", "condition"]).loc[("acme", "all", "all")]
    # per trial: human share correct (1, .5, .5, .5) minus the system's (1, 0, 1, 0)
    assert (
        v.difference == pytest.approx(0.125)
        and v.human_accuracy == 0.625
        and v.machine_accuracy == 0.5
    )
    assert v.trials == 4 and v.n_units == 4 and v.machine_fta == 1
    # The contrast now comes from maskaudit.stats.contrasts.mask_effect, whose min_identities guard
    # (default 10) gives 4 identities no interval and no p-value: the difference stays, `note` says why.
    assert np.isnan(v.p_signflip) and np.isnan(v.difference_low) and np.isnan(v.difference_high)
    assert np.isnan(v.p_holm) and "fewer than 10 identities" in v.note
    ag = tables["agreement"].set_index(["system", "variant"]).loc[("acme", "all")]
    # human hits (majority right; ties miss): t1 only. System right on t1 and t3.
    assert (ag.both_correct, ag.both_miss, ag.human_only, ag.machine_only) == (1, 2, 0, 1)
    assert ag.kappa == pytest.approx(0.5)
    trials = tables["trials"].set_index("trial_id")
    assert trials.both_miss_acme.to_dict() == {"t1": False, "t2": True, "t3": False, "t4": True}


def test_known_group_gaps(tables):
    g = tables["gaps"].set_index(["rater", "attribute"])
    h = g.loc[("humans", "race")]
    assert (h.worst_group, h.best_group, h.gap) == ("B", "A", 0.25)
    # the system: A 1 of 2, B 1 of 2 (a tie: the first group is the worst)
    m = g.loc[("acme", "race")]
    assert (m.gap, m.worst_group, bool(m.same_worst_as_humans)) == (0, "A", False)
    assert g.loc[("humans", "gender")].gap == 0.25  # gender and race coincide in this toy set


def test_cohen_kappa():
    assert cohen_kappa([1, 1, 0, 0], [1, 1, 0, 0]) == 1.0
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == -1.0
    assert np.isnan(cohen_kappa([1, 1], [1, 1])) and np.isnan(cohen_kappa([], []))


def _paired_sample(rng, n_ids, p_x, p_y):
    trials = rng.integers(1, 6, n_ids)
    x = rng.binomial(trials, p_x)
    y = rng.binomial(trials, p_y)
    return x.astype(float), y.astype(float), trials.astype(float)


def test_paired_contrast_rejects_at_alpha_under_the_null():
    rng = np.random.default_rng(11)
    # paired_contrast now takes both raters' per-identity correct counts and draws its own identity
    # bootstrap (maskaudit.stats.contrasts.mask_effect); the p-value is the studentised sign-flip test.
    p = [
        paired_contrast(*_paired_sample(rng, 30, 0.5, 0.5), n_boot=10, n_perm=199, rng=rng)["p"]
        for _ in range(400)
    ]
    rate = np.mean(np.array(p) <= 0.05)
    assert 0.02 <= rate <= 0.085, rate  # 0.05 +- 3 binomial standard errors


def test_paired_contrast_has_power_and_its_interval_covers_the_truth():
    rng = np.random.default_rng(12)
    cover, reject = [], []
    for _ in range(300):
        x, y, n = _paired_sample(rng, 40, 0.6, 0.45)
        res = paired_contrast(x, y, n, n_boot=200, n_perm=99, rng=rng)  # bootstrap-t interval now
        cover.append(res["low"] <= 0.15 <= res["high"])
        reject.append(res["p"] <= 0.05)
    assert 0.90 <= np.mean(cover) <= 0.98, np.mean(cover)  # nominal 0.95
    assert np.mean(reject) > 0.5


def test_paired_contrast_sign_and_too_few_identities():
    x, y, n = np.array([3.0, 2.5, 1.0]), np.array([1.0, 2.0, 1.0]), np.array([3.0, 3.0, 2.0])
    res = paired_contrast(x, y, n, n_boot=50, n_perm=50, rng=np.random.default_rng(0))
    assert res["estimate"] == pytest.approx((6.5 - 4.0) / 8)  # human - system, > 0: humans better
    assert (
        np.isnan(res["p"]) and np.isnan(res["low"]) and "fewer than 10 identities" in res["reason"]
    )
    res = paired_contrast(
        x, y, n, n_boot=50, n_perm=50, rng=np.random.default_rng(0), min_identities=2
    )
    assert res["estimate"] == pytest.approx(0.3125) and 0 < res["p"] <= 1 and res["reason"] == ""


def test_group_gap_permutation_rejects_at_alpha_under_the_null():
    rng = np.random.default_rng(13)
    codes = np.repeat([0, 1], 20)
    w = identity_weights(np.zeros(40, int), 10, rng)
    p = []
    for _ in range(300):
        n = rng.integers(2, 8, 40)
        c = rng.binomial(n, 0.4)
        p.append(group_gap(c, n, codes, 2, w, 99, rng, 0.95)["p"])
    rate = np.mean(np.array(p) <= 0.05)
    assert 0.015 <= rate <= 0.09, rate
