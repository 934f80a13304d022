"""Known-answer tests for the plain-array rates of maskaudit.stats (verification, identification,
intervals). Expected values are worked out by hand in comments."""

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from maskaudit.stats import identification as ident
from maskaudit.stats import intervals
from maskaudit.stats import verification as m

NAN = float("nan")


# --------------------------------------------------------------------------- split_fta / farfrr
def test_split_fta():
    finite, n_fta = m.split_fta([0.1, NAN, 0.3, NAN])
    np.testing.assert_array_equal(finite, [0.1, 0.3])
    assert n_fta == 2
    finite, n_fta = m.split_fta([])
    assert finite.size == 0 and n_fta == 0


def test_farfrr_ties_at_threshold_are_accepts():
    neg = [0.1, 0.3, 0.5, 0.5, 0.7]
    pos = [0.4, 0.5, 0.5, 0.8, 0.9]
    # t = 0.5: negatives >= 0.5 are {0.5, 0.5, 0.7} -> FMR 3/5; positives < 0.5 are {0.4} -> 1/5
    assert m.farfrr(neg, pos, 0.5) == (pytest.approx(0.6), pytest.approx(0.2))
    # just above 0.5 the tied scores flip: FMR 1/5 (0.7), FNMR 3/5 (0.4, 0.5, 0.5)
    t = np.nextafter(0.5, 1)
    assert m.farfrr(neg, pos, t) == (pytest.approx(0.2), pytest.approx(0.6))


# --------------------------------------------------------------------------- EER
def test_eer_clean_crossing():
    neg = [0.1, 0.2, 0.3, 0.4, 0.6]
    pos = [0.35, 0.5, 0.7, 0.8, 0.9]
    # θ=0.35: FMR 2/5 (0.4,0.6) FNMR 0    -> gap .4
    # θ=0.4 : FMR 2/5           FNMR 1/5  -> gap .2
    # θ=0.5 : FMR 1/5 (0.6)     FNMR 1/5  -> gap 0   <- θ*
    # θ=0.6 : FMR 1/5           FNMR 2/5  -> gap .2
    assert m.eer_threshold(neg, pos) == 0.5
    assert m.eer(neg, pos) == pytest.approx(0.2)


def test_eer_overlapping_ties():
    neg = [0.2, 0.5, 0.5, 0.5]
    pos = [0.5, 0.5, 0.8, 0.9]
    # θ=0.2: FMR 1, FNMR 0 (gap 1); θ=0.5: 3/4, 0 (gap .75); θ=0.8: 0, 2/4 (gap .5) <- θ*;
    # θ=0.9: 0, 3/4; θ=inf: 0, 1.  EER = (0 + 0.5)/2 = 0.25
    assert m.eer_threshold(neg, pos) == 0.8
    assert m.eer(neg, pos) == pytest.approx(0.25)


def test_eer_tie_in_gap_picks_smallest_threshold():
    neg, pos = [0.1, 0.5], [0.5, 0.9]
    # θ=0.1: |1-0|=1; θ=0.5: |1/2-0|=.5; θ=0.9: |0-1/2|=.5; θ=inf: 1 -> tie, smallest = 0.5
    assert m.eer_threshold(neg, pos) == 0.5
    assert m.eer(neg, pos) == pytest.approx(0.25)


def test_eer_tie_in_gap_takes_smallest_fmr_plus_fnmr():
    neg, pos = [0.2, 0.4, 0.4], [0.3, 0.6, 0.9]
    # θ=0.4: FMR 2/3, FNMR 1/3 (gap 1/3, sum 1); θ=0.6: FMR 0, FNMR 1/3 (gap 1/3, sum 1/3) <- θ*
    # (the smallest-threshold rule alone would pick 0.4 and report EER 1/2)
    assert m.eer_threshold(neg, pos) == 0.6
    assert m.eer(neg, pos) == pytest.approx(1 / 6)


def test_eer_tie_break_is_exact_with_thirds():
    # |N|=3, |P|=3. θ=0.2: FMR 2/3 (0.2,0.6), FNMR 0 ... crossing between 0.4 and 0.6:
    # θ=0.4: FMR 1/3 (0.6), FNMR 1/3 (0.3) gap 0 <- θ*;  θ=0.6: FMR 1/3, FNMR 2/3 (0.3, 0.4)
    neg, pos = [0.1, 0.2, 0.6], [0.3, 0.4, 0.9]
    assert m.eer_threshold(neg, pos) == 0.4
    assert m.eer(neg, pos) == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- fmr_threshold
NEG10 = [0.9, 0.8, 0.8, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]  # already descending, n = 10
POS5 = [0.3, 0.5, 0.8, 0.85, 0.95]


@pytest.mark.parametrize(
    "target, kth, realised",
    [
        (0.0, 0.9, 0.0),  # k=0: reject the top negative -> FMR 0
        (0.1, 0.8, 0.1),  # k=1: d[1]=0.8, all three 0.8 rejected -> only 0.9 accepted
        (0.2, 0.8, 0.1),  # k=2: d[2]=0.8 tied with d[1], realised 1/10 < target
        (0.3, 0.8, 0.1),  # k=3 (0.3*10 = 3.0000000000000004): still the 0.8 tie
        (0.4, 0.5, 0.4),  # k=4: d[4]=0.5, accepted {0.9,0.8,0.8,0.8} -> exactly 0.4
        (0.45, 0.5, 0.4),  # k=floor(4.5)=4
    ],
)
def test_fmr_threshold_ties(target, kth, realised):
    t = m.fmr_threshold(NEG10, target)
    assert t == np.nextafter(kth, np.inf)
    fmr, _ = m.farfrr(NEG10, POS5, t)
    assert fmr == pytest.approx(realised)
    assert fmr <= target


def test_fmr_threshold_target_one_accepts_everything():
    assert m.fmr_threshold(NEG10, 1.0) == -math.inf
    assert m.farfrr(NEG10, POS5, -math.inf) == (1.0, 0.0)


def test_fmr_threshold_random_never_exceeds_target_and_is_maximal():
    rng = np.random.default_rng(0)
    neg = np.round(rng.normal(size=200), 1)  # many ties
    for target in [0.0, 0.001, 0.01, 0.05, 0.1, 0.123, 0.5, 0.99]:
        t = m.fmr_threshold(neg, target)
        assert np.mean(neg >= t) <= target
        # one step more permissive (accepting the value just below t) would exceed the target
        below = neg[neg < t].max()
        assert np.mean(neg >= below) > target


def test_fnmr_at_fmr():
    # target 0.2 -> t just above 0.8: positives 0.3, 0.5, 0.8 rejected -> 3/5
    assert m.fnmr_at_fmr(NEG10, POS5, 0.2) == pytest.approx(0.6)
    # target 0.4 -> t just above 0.5: 0.3, 0.5 rejected -> 2/5
    assert m.fnmr_at_fmr(NEG10, POS5, 0.4) == pytest.approx(0.4)
    # target 0 -> t just above 0.9: only 0.95 accepted -> 4/5
    assert m.fnmr_at_fmr(NEG10, POS5, 0.0) == pytest.approx(0.8)
    # target 1 -> -inf: everything accepted
    assert m.fnmr_at_fmr(NEG10, POS5, 1.0) == 0.0


def test_fmr_threshold_bad_target():
    with pytest.raises(ValueError):
        m.fmr_threshold(NEG10, 1.5)
    with pytest.raises(ValueError):
        m.fmr_threshold(NEG10, -0.1)


# --------------------------------------------------------------------------- ROC
def test_roc_auc_hand_example_with_ties():
    neg, pos = [0.1, 0.5, 0.5], [0.5, 0.9]
    # pos 0.5: beats 0.1 (1) + ties 0.5,0.5 (0.5+0.5) = 2 ; pos 0.9 beats all 3 -> 5 / 6
    assert m.roc_auc(neg, pos) == pytest.approx(5 / 6)


def test_roc_auc_matches_bruteforce_and_scipy():
    rng = np.random.default_rng(1)
    neg = np.round(rng.normal(0, 1, 300), 1)
    pos = np.round(rng.normal(1, 1, 170), 1)
    diff = pos[:, None] - neg[None, :]
    brute = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    auc = m.roc_auc(neg, pos)
    assert auc == pytest.approx(brute, abs=1e-12)
    assert auc == pytest.approx(mannwhitneyu(pos, neg).statistic / (len(neg) * len(pos)), abs=1e-12)


def test_roc_curve():
    fmr, tmr, thr = m.roc_curve([0.1, 0.5], [0.5, 0.9])
    np.testing.assert_array_equal(thr, [np.inf, 0.9, 0.5, 0.1])
    np.testing.assert_allclose(fmr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tmr, [0, 0.5, 1, 1])


# --------------------------------------------------------------------------- accuracy / system
def test_system_rates():
    # FAR = 0.1 * (1 - 0.5) = 0.05 ; FRR = 0.25 + 0.2 * 0.75 = 0.4
    far, frr = m.system_rates(0.1, 0.2, 0.5, 0.25)
    assert far == pytest.approx(0.05) and frr == pytest.approx(0.4)
    assert m.system_rates(0.1, 0.2, 0.0, 0.0) == (pytest.approx(0.1), pytest.approx(0.2))
    # every comparison failed: algorithm rates undefined, system rates defined
    assert m.system_rates(NAN, NAN, 1.0, 1.0) == (0.0, 1.0)
    far, frr = m.system_rates(NAN, NAN, 0.5, 0.5)
    assert math.isnan(far) and math.isnan(frr)
    with pytest.raises(ValueError):
        m.system_rates(0.1, 0.2, 1.5, 0.0)


# --------------------------------------------------------------------------- identification
def _rank_matrix():
    scores = np.array(
        [
            [0.9, 0.2, 0.3, NAN],  # p0 mate c0: no non-mate >= 0.9          -> rank 1
            [0.6, 0.6, 0.7, NAN],  # p1 mate c0: 0.6 (tie) and 0.7 >= 0.6     -> rank 3
            [0.1, 0.2, 0.3, NAN],  # p2 no mate                                -> NaN
            [NAN, NAN, NAN, NAN],  # p3 failed probe (mate c1)                 -> NaN
            [0.4, 0.8, 0.5, NAN],  # p4 mates c1, c2: best 0.8, 0.4 below      -> rank 1
            [0.5, 0.3, 0.1, NAN],  # p5 only mate is the failed enrolment c3   -> NaN
            [0.5, 0.7, 0.7, NAN],  # p6 mate c2 = 0.7, non-mate c1 ties        -> rank 2
        ]
    )
    is_mate = np.zeros(scores.shape, bool)
    for p, c in [(0, 0), (1, 0), (3, 1), (4, 1), (4, 2), (5, 3), (6, 2)]:
        is_mate[p, c] = True
    return scores, is_mate


def test_mate_ranks_hand_matrix():
    ranks = ident.mate_ranks(*_rank_matrix())
    np.testing.assert_array_equal(ranks, [1, 3, NAN, NAN, 1, NAN, 2])
    assert ranks.dtype == float


def test_mate_ranks_matches_loop():
    rng = np.random.default_rng(2)
    s = np.round(rng.random((40, 15)), 1)
    mate = rng.random(s.shape) < 0.1
    s[rng.random(s.shape) < 0.05] = NAN
    expected = []
    for row, mrow in zip(s, mate):
        ok = ~np.isnan(row)
        if not (mrow & ok).any():
            expected.append(NAN)
            continue
        best = row[mrow & ok].max()
        expected.append(1 + np.sum(row[~mrow & ok] >= best))
    np.testing.assert_array_equal(ident.mate_ranks(s, mate), expected)


def test_mate_ranks_shape_mismatch():
    with pytest.raises(ValueError):
        ident.mate_ranks(np.zeros((2, 3)), np.zeros((3, 2), bool))


def test_recognition_rate_with_nan():
    ranks = ident.mate_ranks(*_rank_matrix())  # [1, 3, nan, nan, 1, nan, 2]
    assert ident.recognition_rate(ranks) == pytest.approx(2 / 7)
    assert ident.recognition_rate(ranks, rank=2) == pytest.approx(3 / 7)
    assert ident.recognition_rate(ranks, rank=5) == pytest.approx(4 / 7)
    assert math.isnan(ident.recognition_rate([]))


# --------------------------------------------------------------------------- Clopper–Pearson
def test_clopper_pearson_known_values():
    lo, hi = intervals.clopper_pearson(0, 10)
    assert (
        lo == 0.0 and hi == pytest.approx(1 - 0.025**0.1) and hi == pytest.approx(0.3085, abs=1e-4)
    )
    assert intervals.clopper_pearson(5, 10) == (
        pytest.approx(0.1871, abs=1e-4),
        pytest.approx(0.8129, abs=1e-4),
    )
    lo, hi = intervals.clopper_pearson(10, 10)
    assert lo == pytest.approx(0.025**0.1) and hi == 1.0
    lo, hi = intervals.clopper_pearson(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    with pytest.raises(ValueError):
        intervals.clopper_pearson(11, 10)


# --------------------------------------------------------------------------- NaN / empty inputs
WITH_NAN = [0.1, NAN, 0.3]
OK = [0.2, 0.4]


@pytest.mark.parametrize(
    "call",
    [
        lambda: m.farfrr(WITH_NAN, OK, 0.5),
        lambda: m.farfrr(OK, WITH_NAN, 0.5),
        lambda: m.eer_threshold(WITH_NAN, OK),
        lambda: m.eer(OK, WITH_NAN),
        lambda: m.fmr_threshold(WITH_NAN, 0.1),
        lambda: m.fnmr_at_fmr(OK, WITH_NAN, 0.1),
        lambda: m.roc_auc(WITH_NAN, OK),
        lambda: m.roc_curve(OK, WITH_NAN),
    ],
)
def test_nan_scores_raise(call):
    with pytest.raises(ValueError):
        call()


def test_empty_inputs_give_nan():
    fmr, fnmr = m.farfrr([], OK, 0.3)
    assert math.isnan(fmr) and fnmr == 0.5
    fmr, fnmr = m.farfrr(OK, [], 0.3)
    assert fmr == 0.5 and math.isnan(fnmr)
    assert math.isnan(m.eer_threshold([], OK)) and math.isnan(m.eer(OK, []))
    assert math.isnan(m.fmr_threshold([], 0.1))
    assert math.isnan(m.fnmr_at_fmr([], OK, 0.1)) and math.isnan(m.fnmr_at_fmr(OK, [], 0.1))
    assert math.isnan(m.roc_auc([], OK)) and math.isnan(m.roc_auc(OK, []))
    fmr, tmr, thr = m.roc_curve([], OK)
    assert np.isnan(fmr).all() and thr[0] == np.inf and len(thr) == 3


# --------------------------------------------------------------------------- cross-checks
def _random_scores(seed, n_neg=400, n_pos=150, decimals=1):
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0, 1, n_neg), decimals), np.round(
        rng.normal(1.2, 1, n_pos), decimals
    )


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_sklearn(seed):
    from sklearn.metrics import roc_auc_score

    neg, pos = _random_scores(seed)
    y = np.r_[np.zeros(neg.size), np.ones(pos.size)]
    assert m.roc_auc(neg, pos) == pytest.approx(roc_auc_score(y, np.r_[neg, pos]), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_roc_curve_matches_sklearn(seed):
    from sklearn.metrics import roc_curve

    neg, pos = _random_scores(seed)
    y = np.r_[np.zeros(neg.size), np.ones(pos.size)]
    fpr, tpr, thr = roc_curve(y, np.r_[neg, pos], drop_intermediate=False)
    fmr, tmr, ours = m.roc_curve(neg, pos)
    # both: accept iff score >= threshold, thresholds = +inf then every distinct score descending
    np.testing.assert_array_equal(ours[1:], thr[1:])
    np.testing.assert_allclose(fmr, fpr)
    np.testing.assert_allclose(tmr, tpr)


@pytest.mark.parametrize("seed", range(3))
def test_farfrr_and_eer_match_brute_force_with_ties(seed):
    neg, pos = _random_scores(seed, 120, 60)
    cands = np.r_[np.unique(np.r_[neg, pos]), np.inf]
    brute = []
    for t in cands:
        fmr = sum(1 for n in neg if n >= t) / neg.size
        fnmr = sum(1 for p in pos if p < t) / pos.size
        assert m.farfrr(neg, pos, t) == (pytest.approx(fmr), pytest.approx(fnmr))
        brute.append((round(abs(fmr - fnmr), 12), round(fmr + fnmr, 12), t, (fmr + fnmr) / 2))
    best = min(brute)
    assert m.eer_threshold(neg, pos) == best[2]
    assert m.eer(neg, pos) == pytest.approx(best[3])


def test_degenerate_inputs():
    assert math.isnan(m.eer([], [0.5])) and math.isnan(m.eer([0.5], []))
    assert math.isnan(m.roc_auc([], []))
    assert m.farfrr([], [0.1], 0.5)[1] == 1.0 and math.isnan(m.farfrr([], [0.1], 0.5)[0])
    assert math.isnan(m.fmr_threshold([], 0.1))
    # zero errors: perfectly separated sets
    assert m.eer([0.1, 0.2], [0.8, 0.9]) == 0.0 and m.roc_auc([0.1, 0.2], [0.8, 0.9]) == 1.0
    # every score tied at the threshold: all accepted
    assert m.farfrr([0.5, 0.5], [0.5], 0.5) == (1.0, 0.0)
    assert all(math.isnan(x) for x in intervals.clopper_pearson(0, 0))
    with pytest.raises(ValueError, match="NaN"):
        m.farfrr([NAN], [0.5], 0.5)
