"""Issue 15 (part B): predeclared tests, signed paired contrasts, small-sample honesty, the C_k null,
the colour x group contrast and the calibration study, each against a case with a known answer."""

import math

import numpy as np
import pandas as pd
import pytest
from test_stats import _audit  # the toy audit through the real scoring pass

from maskaudit.stats import calibration as CAL
from maskaudit.stats import clustering as C
from maskaudit.stats import contrasts as K
from maskaudit.stats.hypotheses import Settings, Spec, permutations_for, predeclared, run_tests
from maskaudit.tables import collect

FAST = dict(n_boot=199, n_perm=199)


def _planted(seed, groups=(30, 30, 30), base=(0.05, 0.05, 0.05), masked=(0.30, 0.30, 0.60)):
    """Per-identity counts of a simulated audit (maskaudit.stats.calibration), group names A, B, C."""
    sizes = dict(zip("ABC", groups))
    targets = {g: (b, m) for g, b, m in zip("ABC", base, masked)}
    return CAL.simulate_audit(np.random.default_rng(seed), targets, groups=sizes)


# --------------------------------------------------------------------------- contrasts: known answers
def test_contrast_estimates_are_signed_ratio_contrasts():
    e1, n1 = np.array([3, 1, 4, 0, 2, 5.0]), np.array([10, 10, 10, 10, 10, 10.0])
    e0, n0 = np.array([1, 0, 1, 0, 0, 1.0]), np.array([5, 5, 5, 5, 5, 5.0])
    a, b = np.array([1, 1, 1, 0, 0, 0], bool), np.array([0, 0, 0, 1, 1, 1], bool)
    kw = dict(rng=np.random.default_rng(0), min_identities=2, **FAST)
    me = K.mask_effect(e1, n1, e0, n0, a, **kw)
    assert me.estimate == pytest.approx(8 / 30 - 2 / 15)  # masked - unmasked, group A
    assert (me.errors_a, me.trials_a, me.errors_a_base, me.trials_a_base) == (8, 30, 2, 15)
    gd = K.group_difference(e1, n1, a, b, **kw)
    assert gd.estimate == pytest.approx(8 / 30 - 7 / 30)  # A - B
    did = K.difference_in_differences(e1, n1, e0, n0, a, b, **kw)
    assert did.estimate == pytest.approx((8 / 30 - 2 / 15) - (7 / 30 - 1 / 15))
    # swapping the groups flips the sign exactly
    assert K.difference_in_differences(e1, n1, e0, n0, b, a, **kw).estimate == pytest.approx(
        -did.estimate
    )
    assert did.min_attainable_p == pytest.approx(1 / 200) and 1 / 200 <= did.p_value <= 1
    few = K.group_difference(e1, n1, a, b, rng=np.random.default_rng(0), min_identities=4, **FAST)
    assert (
        math.isnan(few.p_value)
        and math.isnan(few.ci_low)
        and "fewer than 4 identities" in few.reason
    )
    with pytest.raises(ValueError):
        K.group_difference(e1, n1, a, a, **kw)


def test_permutation_p_values_are_uniform_under_the_null():
    """Exact under exchangeability: 200 null audits (unequal group sizes and images per identity)."""
    p = []
    for s in range(200):
        counts, label = _planted([1, s], groups=(12, 20, 30), masked=(0.3, 0.3, 0.3))
        (e1, n1), (e0, n0) = counts["masked"], counts["none"]
        p.append(
            K.difference_in_differences(
                e1,
                n1,
                e0,
                n0,
                label == "A",
                label == "C",
                n_boot=10,
                n_perm=99,
                rng=np.random.default_rng(s),
            ).p_value
        )
    p = np.array(p)
    assert abs((p < 0.05).mean() - 0.05) < 0.04 and abs((p < 0.5).mean() - 0.5) < 0.1


# ---------------------------------------------------------------------- finding 4: no bias to "masks widen the gap"
def test_signed_interaction_is_unbiased_where_max_minus_min_is_not():
    """Issue: 7 groups x 40 identities, same FNMR everywhere (0.02 unmasked, 0.30 masked): the gap
    change of max - min is positive from noise alone; the signed interactions are centred on 0."""
    rng = np.random.default_rng(5)
    est, excl, gap_change = [], 0, []
    for run in range(20):
        label = np.repeat(np.arange(7), 40)
        k = rng.integers(2, 6, label.size)
        n0, n1 = k * (k - 1) / 2.0, k * (k - 1) * 1.0
        u = rng.normal(0, 0.5, label.size)
        e0 = rng.binomial(n0.astype(int), 1 / (1 + np.exp(-(np.log(0.02 / 0.98) + u)))).astype(
            float
        )
        e1 = rng.binomial(n1.astype(int), 1 / (1 + np.exp(-(np.log(0.30 / 0.70) + u)))).astype(
            float
        )
        r0 = [e0[label == g].sum() / n0[label == g].sum() for g in range(7)]
        r1 = [e1[label == g].sum() / n1[label == g].sum() for g in range(7)]
        gap_change.append((max(r1) - min(r1)) - (max(r0) - min(r0)))
        c = K.difference_in_differences(
            e1,
            n1,
            e0,
            n0,
            label == run % 7,
            label == (run + 3) % 7,
            n_boot=199,
            n_perm=99,
            rng=np.random.default_rng(run),
        )
        est.append(c.estimate)
        excl += not (c.ci_low <= 0 <= c.ci_high)
    # max - min: biased up
    assert np.mean(gap_change) > 0.03 and np.mean(np.array(gap_change) > 0) > 0.8
    assert abs(np.mean(est)) < 0.02 and excl <= 3  # the contrast: centred, intervals at their level


# --------------------------------------------------------------------------- finding 3: predeclared tests and Holm
SETTINGS = Settings(
    measures=("fnmr",), attributes=("race",), exploratory_attributes=(), min_identities=10, **FAST
)
VARIANTS = [
    {"id": "none", "kind": "none", "colour": "none"},
    {"id": "masked", "kind": "surgical", "colour": "blue"},
]


def _run(seed, settings=SETTINGS, **kw):
    counts, label = _planted(seed, **kw)
    specs = predeclared(VARIANTS, {"race": ["A", "B", "C"]}, {("fnmr", "default")}, settings)
    return run_tests(
        specs,
        lambda v, m, t: counts.get(v),
        {"race": label, "overall": np.full(label.size, "all")},
        settings,
        seed_parts=(0, "d"),
    )


def test_predeclared_list_is_short_and_labelled():
    specs = predeclared(
        VARIANTS,
        {"race": ["A", "B", "C"], "gender": ["f", "m"], "gender_race": ["f/A", "m/A"]},
        {("fnmr", "default")},
        Settings(measures=("fnmr_system", "fnmr")),
    )
    primary = [s for s in specs if s.role == "primary"]
    # per mask variant: everyone + 3 race + 2 gender mask effects, 3 race + 1 gender interactions
    assert len(primary) == 10
    assert {s.hypothesis for s in primary} == {"mask_effect", "mask_group_interaction"}
    # fnmr_system is absent here: skipped, not invented
    assert all(s.measure == "fnmr" for s in specs)
    assert {s.hypothesis for s in specs if s.role == "exploratory"} == {
        "mask_effect",
        "mask_group_interaction",
        "group_difference",
    }


def test_significant_agrees_with_interval_on_a_significant_case():
    out = _run(11)
    sig = out[out.verdict == "significant"]
    assert {"mask_effect", "mask_group_interaction"} <= set(sig.hypothesis)  # not vacuous
    assert (sig.p_holm < 0.05).all() and ((sig.ci_low > 0) | (sig.ci_high < 0)).all()
    assert (np.sign(sig.ci_low) == np.sign(sig.estimate)).all()
    inter = out[(out.hypothesis == "mask_group_interaction") & (out.group_b == "C")].set_index(
        "group_a"
    )
    assert (inter.estimate < 0).all() and (
        inter.verdict == "significant"
    ).all()  # C's mask effect is larger
    assert (out.p_holm >= out.p_value).all() and set(out.family) == {"primary", "exploratory"}
    assert set(out.verdict) <= {"significant", "not_significant", "too_few_samples"}


def test_enough_permutations_for_holm_or_a_reason():
    n_perm, reason = permutations_for(400, Settings(n_perm=1000, max_perm=100000))
    assert 1 / (n_perm + 1) <= 0.05 / 400 and not reason
    n_perm, reason = permutations_for(400, Settings(n_perm=1000, max_perm=2000))
    assert n_perm == 2000 and "cannot pass Holm" in reason
    out = _run(
        11,
        Settings(
            measures=("fnmr",),
            attributes=("race",),
            exploratory_attributes=(),
            n_boot=50,
            n_perm=20,
            max_perm=20,
            min_identities=10,
        ),
    )
    assert (
        out.reason.str.contains("cannot pass Holm").all() and (out.verdict != "significant").all()
    )


def test_adding_a_model_changes_no_other_models_verdicts():
    tables = {m: _audit(seed)[0]["tests"].assign(model=m) for m, seed in (("a", 0), ("b", 1))}
    for m, t in tables.items():
        t["family"] = t.family.str.replace("toy/", f"{m}/")
    alone = collect([tables["a"]])
    both = collect([tables["a"], tables["b"]])
    pd.testing.assert_frame_equal(both[both.model == "a"].reset_index(drop=True), alone)
    assert not set(tables["a"].family) & set(tables["b"].family)  # families never span systems


def test_tests_table_of_an_audit():
    tables, _, _ = _audit()
    t = tables["tests"]
    need = [
        "model",
        "dataset",
        "family",
        "role",
        "hypothesis",
        "variant",
        "attribute",
        "group_a",
        "group_b",
        "comparison",
        "measure",
        "threshold",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "p_holm",
        "min_attainable_p",
        "verdict",
        "reason",
        "n_identities_a",
        "n_identities_b",
        "errors_a",
        "errors_b",
        "trials_a",
        "trials_b",
    ]
    assert need == [c for c in t.columns if c in need]
    assert set(t.role) == {"primary", "exploratory"} and (t.family == "toy/d/" + t.role).all()
    few = t[t.verdict == "too_few_samples"]
    assert (
        len(few)
        and few.p_value.isna().all()
        and few.ci_low.isna().all()
        and (few.reason != "").all()
    )
    assert (t.comparison == "verification").all()


# --------------------------------------------------------------------------- finding 7: small-sample honesty
def test_small_samples_are_flagged_not_printed():
    tables, _, _ = _audit(min_identities=10, min_group_errors=30)
    rates = tables["rates"]
    small = rates[(rates.n_units < 10) & rates.measure.isin(["fnmr", "reid_rate"])]
    assert len(small) and small.boot_low.isna().all()  # no interval below 10 identities
    eer = rates[rates.measure == "eer_group_own_threshold"]
    assert (eer.trials > 0).all() and eer.errors.notna().all()  # the per-group EER has its counts
    fair = tables["fairness"]
    zero = fair[fair.min_errors_fmr < 30]
    assert (
        len(zero)
        and zero.value.isna().all()
        and zero.reason.str.contains("fewer than 30 errors").all()
    )
    d = tables["differentials"].dropna(subset=["difference"])
    assert {"worst_errors", "worst_trials", "best_errors", "best_trials"} <= set(d.columns)


def test_fairness_on_acquired_and_system_fnmr():
    from maskaudit.stats.gaps import fairness_table

    groups = pd.DataFrame(
        {"race": ["A", "A", "B", "B"], "gender": "unknown", "gender_race": "unknown"}
    )
    reps = {}
    for m, rates in (("fmr", (0.01, 0.02)), ("fnmr", (0.1, 0.2)), ("fnmr_system", (0.15, 0.4))):
        for g, r in zip("AB", rates):
            reps[("none", "race", g, m, "t")] = (r, np.full(20, r), 40, 50.0, 5000.0)
    out = fairness_table(
        [{"id": "none", "kind": "none", "colour": "none"}],
        {"t": 0.5},
        reps,
        groups,
        {},
        0.5,
        0.95,
        min_identities=2,
        min_group_errors=30,
    )
    fdr = out[out.statistic == "fdr"].set_index("fnmr_measure").value
    assert fdr["fnmr"] == pytest.approx(1 - (0.5 * 0.01 + 0.5 * 0.1))
    assert fdr["fnmr_system"] == pytest.approx(1 - (0.5 * 0.01 + 0.5 * 0.25))


# --------------------------------------------------------------------------- finding 8: C_k with its null
def test_clustering_index_of_random_structure_reads_against_its_null():
    rng = np.random.default_rng(0)
    n, g = 98, 14
    labels = np.arange(n) % g
    s = rng.normal(size=(n, n))
    coords, _, keep = C.principal_coordinates(C.nonmated_matrix(s, np.ones((n, n))))
    perm = np.array([rng.permutation(labels) for _ in range(500)])
    ck = [C.clustering_index(coords[:, k], labels) for k in range(5)]
    nulls = [C.clustering_null(coords[:, k], perm) for k in range(5)]
    assert C.expected_under_null(g, n) == pytest.approx(13 / 97)
    assert np.mean(ck) == pytest.approx(13 / 97, abs=0.05)  # "0.13" is what noise gives
    assert all(abs(z.mean() - 13 / 97) < 0.01 for z in nulls)
    block = s + 3.0 * (labels[:, None] == labels[None, :])
    coords, _, _ = C.principal_coordinates(C.nonmated_matrix(block, np.ones((n, n))))
    c0 = C.clustering_index(coords[:, 0], labels)
    assert c0 > 0.5 and (C.clustering_null(coords[:, 0], perm) >= c0).sum() == 0


def test_clustering_uses_non_mated_scores_only():
    rng = np.random.default_rng(1)
    s, c = rng.normal(size=(20, 20)), np.ones((20, 20))
    a = C.nonmated_matrix(s, c)
    s2 = s.copy()
    np.fill_diagonal(s2, 100.0)  # mated scores changed
    np.testing.assert_array_equal(C.nonmated_matrix(s2, c), a)
    assert np.isnan(np.diag(a)).all()
    tables, _, _ = _audit()
    clus = tables["clustering"]
    assert {"null_mean", "null_expected", "p_value", "n_perm"} <= set(clus.columns)
    assert clus.p_value.between(0, 1).all()


# --------------------------------------------------------------------------- finding 9: colour x skin tone (race proxy)
def test_colour_group_contrast_is_signed_and_paired():
    variants = [
        {"id": "none", "kind": "none", "colour": "none"},
        {"id": "n95-skin_dark", "kind": "n95", "colour": "skin_dark"},
        {"id": "n95-skin_light", "kind": "n95", "colour": "skin_light"},
    ]
    specs = [
        s
        for s in predeclared(variants, {"race": ["A", "B"]}, {("fnmr", "default")}, SETTINGS)
        if s.hypothesis == "colour_group_contrast"
    ]
    assert specs == [
        Spec(
            "exploratory",
            "colour_group_contrast",
            "n95-skin_dark",
            "n95-skin_light",
            "race",
            "A",
            "B",
            "fnmr",
            "default",
        )
    ]
    rng = np.random.default_rng(3)
    label = np.repeat(["A", "B"], 25)
    n = np.full(50, 6.0)
    # dark masks hurt group A
    dark = rng.binomial(6, np.where(label == "A", 0.6, 0.2)).astype(float)
    light = rng.binomial(6, 0.2, 50).astype(float)
    counts = {"n95-skin_dark": (dark, n), "n95-skin_light": (light, n)}
    out = run_tests(
        specs, lambda v, m, t: counts.get(v), {"race": label}, SETTINGS, seed_parts=(0,)
    )
    row = out.iloc[0]
    want = (dark[label == "A"].sum() - light[label == "A"].sum()) / 150 - (
        dark[label == "B"].sum() - light[label == "B"].sum()
    ) / 150  # (A dark - A light) - (B ...)
    assert row.estimate == pytest.approx(want) and row.verdict == "significant" and row.ci_low > 0


# --------------------------------------------------------------------------- finding 10: the calibration study, small
def test_calibration_study_small():
    """The benchmark (benchmarks/calibrate_tests.py, 500 audits) in small: the same functions, 40 audits."""
    settings = Settings(
        measures=("fnmr",),
        attributes=("race",),
        exploratory_attributes=(),
        n_boot=199,
        n_perm=199,
        min_identities=20,
    )
    scen = {k: CAL.SCENARIOS[k] for k in ("null", "planted")}
    raw = CAL.run_study(40, settings, scenarios=scen, seed=1)
    s = CAL.summarise(raw, 0.05).set_index(["scenario", "hypothesis", "truth"])
    null = s.loc[("null", "mask_group_interaction", "null")]
    assert null.tests == 120 and null.reject_raw <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 120)
    assert 0.85 <= null.coverage <= 1.0
    planted = s.loc[("planted", "mask_group_interaction", "effect")]
    assert planted.reject_raw > 0.4 and planted.right_sign == 1.0
    assert (
        s.loc[("null", "fwer (any true-null primary test significant)", "null")].significant <= 0.15
    )


# --------------------------------------------------------------------------- the demo workflow's tests table
@pytest.mark.integration
def test_demo_workflow_writes_the_tests_table(audit):
    from workflow_support import read

    t = read(audit, "tests")
    assert set(t.model) == {
        "dlib",
        "dlib+contrastive",
    }  # the base and its mitigation head, each its own families
    assert set(t[t.model == "dlib+contrastive"].family) <= {
        "dlib+contrastive/demo/primary",
        "dlib+contrastive/demo/exploratory",
    }
    t = t[t.model == "dlib"]
    assert set(t.family) <= {"dlib/demo/primary", "dlib/demo/exploratory"}
    m = (t.family == "dlib/demo/primary").sum()
    tested = t[(t.role == "primary") & t.p_value.notna()]
    # the demo's 11 identities reach the guard (stats.min_identities = 10) only for everyone's re-identification
    assert (
        set(zip(tested.attribute, tested.measure)) == {("overall", "reid_fnmr_system")}
        and len(tested) == 3
    )
    assert (tested.min_attainable_p <= 0.05 / m).all() and (tested.p_holm >= tested.p_value).all()
    sig = t.verdict == "significant"
    assert (t[sig].p_holm < 0.05).all() and ((t[sig].ci_low > 0) | (t[sig].ci_high < 0)).all()
    few = t[t.verdict == "too_few_samples"]
    assert few.p_value.isna().all() and few.reason.str.startswith("fewer than 10 identities").all()
    overall = read(audit, "overall")
    overall = overall[overall.model == "dlib"].set_index(["variant", "measure", "threshold"]).value
    for row in tested.itertuples():  # the same numbers as the rates table: masked - unmasked
        assert row.estimate == pytest.approx(
            overall[(row.variant, row.measure, "default")]
            - overall[("none", row.measure, "default")],
            abs=2e-6,
        )
    fair = read(audit, "fairness")
    # too few errors
    assert set(fair.fnmr_measure) <= {"fnmr", "fnmr_system"} and fair.value.isna().all()
    assert fair.reason.str.contains("fewer than 30 errors").all()
    clus = read(audit, "clustering")
    assert clus.p_value.dropna().between(0, 1).all() and clus.p_value.notna().any()
    # one known group (race in the demo): no index, no null
    assert clus[clus.n_groups < 2].p_value.isna().all()
