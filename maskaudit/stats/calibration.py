"""Calibration study: whole simulated audits with known truth through the predeclared tests.

Each simulated audit has groups of unequal size, identities with unequal numbers of images, and two
conditions (unmasked ``none``, masked ``masked``). An identity with ``k`` images has ``k (k - 1) / 2``
unmasked mated pairs and ``k (k - 1)`` masked ones (a masked probe against each other original), as
in the workflow. Its error probability in condition ``c`` is ``expit(a_gc + u_i)`` with a latent
identity effect ``u_i ~ N(0, sigma^2)`` shared by both conditions (so conditions are paired and
identities are clusters); errors are binomial given that probability. ``a_gc`` is solved so the
*population* rate ``E[expit(a_gc + u)]`` equals the scenario's target, so the true contrasts are the
targets' differences exactly. The audit then runs :func:`maskaudit.stats.hypotheses.predeclared` and
:func:`~maskaudit.stats.hypotheses.run_tests` (bootstrap, permutations, Holm, verdicts) unchanged.

Summaries per (scenario, hypothesis, truth): the share of tests with raw ``p < alpha`` (per-test
size under the null, power otherwise) with its Monte Carlo standard error, the share of
``significant`` verdicts (Holm per family), the share whose interval covers the truth, and, for
planted effects, the share of significant verdicts with the right sign. ``fwer`` rows give the share
of audits with any significant verdict among true-null primary tests.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.special import expit

from maskaudit.stats.hypotheses import PRIMARY, Settings, predeclared, run_tests

GROUPS = {"A": 20, "B": 35, "C": 60}  # identities per group (unequal on purpose)
SMALL = {"A": 12, "B": 25, "C": 40}  # below the default stats.min_identities = 20
# scenario -> (identities per group, group -> (unmasked rate, masked rate))
SCENARIOS = {
    "null": (GROUPS, {"A": (0.05, 0.05), "B": (0.05, 0.05), "C": (0.05, 0.05)}),
    "mask_only": (GROUPS, {"A": (0.05, 0.30), "B": (0.05, 0.30), "C": (0.05, 0.30)}),
    "group_main": (GROUPS, {"A": (0.02, 0.22), "B": (0.05, 0.25), "C": (0.10, 0.30)}),
    "planted": (GROUPS, {"A": (0.05, 0.30), "B": (0.05, 0.30), "C": (0.05, 0.45)}),
    "null_small_groups": (SMALL, {"A": (0.05, 0.05), "B": (0.05, 0.05), "C": (0.05, 0.05)}),
}
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(60)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def mean_rate(a: float, sigma: float) -> float:
    """``E[expit(a + sigma Z)]``, Z standard normal (Gauss-Hermite, 60 nodes)."""
    return float((_WEIGHTS * expit(a + sigma * _NODES)).sum())


def location_for(rate: float, sigma: float) -> float:
    """``a`` with ``E[expit(a + sigma Z)] = rate`` (bisection)."""
    lo, hi = -30.0, 30.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_rate(mid, sigma) < rate else (lo, mid)
    return (lo + hi) / 2


def simulate_audit(
    rng: np.random.Generator,
    targets: dict,
    sigma: float = 0.8,
    groups: dict = GROUPS,
    images=(2, 6),
):
    """Per-identity counts ``{variant: (errors, trials)}`` and the group label of every identity."""
    label = np.repeat(list(groups), list(groups.values()))
    k = rng.integers(images[0], images[1] + 1, label.size)
    trials = {"none": k * (k - 1) / 2, "masked": k * (k - 1) * 1.0}
    u = rng.normal(0.0, sigma, label.size)
    counts = {}
    for c, variant in enumerate(("none", "masked")):
        a = np.array([location_for(targets[g][c], sigma) for g in groups])[
            np.searchsorted(list(groups), label)
        ]
        p = expit(a + u)
        counts[variant] = (
            rng.binomial(trials[variant].astype(int), p).astype(float),
            trials[variant],
        )
    return counts, label


def truth(spec, targets: dict, groups: dict = GROUPS) -> float:
    """The true value of a spec's contrast under the scenario's targets."""

    def rate(group, variant):
        return (
            targets[group][0 if variant == "none" else 1]
            if group != "all"
            else sum(groups[g] * targets[g][0 if variant == "none" else 1] for g in groups)
            / sum(groups.values())
        )

    if spec.hypothesis == "mask_effect":
        # everyone: trials are independent of the group, so the pooled rate is the size-weighted mean
        return rate(spec.group_a, spec.variant) - rate(spec.group_a, spec.base_variant)
    if spec.hypothesis == "group_difference":
        return rate(spec.group_a, spec.variant) - rate(spec.group_b, spec.variant)
    return (rate(spec.group_a, spec.variant) - rate(spec.group_a, spec.base_variant)) - (
        rate(spec.group_b, spec.variant) - rate(spec.group_b, spec.base_variant)
    )


def run_study(
    n_audits: int, settings: Settings, scenarios=SCENARIOS, seed: int = 0, sigma: float = 0.8
) -> pd.DataFrame:
    """One row per test of every simulated audit (the raw material of :func:`summarise`)."""
    variants = [
        {"id": "none", "kind": "none", "colour": "none"},
        {"id": "masked", "kind": "surgical", "colour": "blue"},
    ]
    rows = []
    for name, (groups, targets) in scenarios.items():
        # null_small_groups lowers the identity guard to its group sizes: it shows why the guard exists
        cfg = replace(settings, min_identities=min(settings.min_identities, *groups.values()))
        specs = [
            s
            for s in predeclared(variants, {"race": sorted(groups)}, {("fnmr", "default")}, cfg)
            if s.role == PRIMARY
        ]
        for audit in range(n_audits):
            counts, label = simulate_audit(
                np.random.default_rng([seed, audit, len(name)] + [ord(c) for c in name]),
                targets,
                sigma,
                groups,
            )
            labels = {"race": label, "overall": np.full(label.size, "all")}
            table = run_tests(
                specs, lambda v, m, t: counts.get(v), labels, cfg, seed_parts=(seed, name, audit)
            )
            table["truth"] = [truth(s, targets, groups) for s in specs]
            table["scenario"], table["audit"] = name, audit
            rows.append(table)
    return pd.concat(rows, ignore_index=True)


def summarise(raw: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per (scenario, hypothesis, truth class): size or power, verdict rate, coverage, sign."""
    raw = raw[raw.truth.notna()].copy()
    raw["null"] = np.isclose(raw.truth, 0.0)
    raw["reject"] = raw.p_value < alpha
    raw["sig"] = raw.verdict == "significant"
    raw["covers"] = (raw.ci_low <= raw.truth) & (raw.truth <= raw.ci_high)
    # effects only (below)
    raw["right_sign"] = raw.sig & (np.sign(raw.estimate) == np.sign(raw.truth))
    out = []
    for (scenario, hyp, null), g in raw.groupby(["scenario", "hypothesis", "null"], sort=False):
        tested = g[g.p_value.notna()]
        n = len(tested)
        per_test = tested.groupby(["group_a", "group_b"]).reject.mean()
        out.append(
            {
                "scenario": scenario,
                "hypothesis": hyp,
                "truth": "null" if null else "effect",
                "tests": n,
                "too_few": int(len(g) - n),
                "reject_raw": tested.reject.mean(),
                "reject_raw_max_per_test": float(per_test.max()) if len(per_test) else np.nan,
                # a single test's bound over the audits: alpha + 2 Monte Carlo standard errors
                "bound_per_test": alpha
                + 2 * np.sqrt(alpha * (1 - alpha) / max(g.audit.nunique(), 1)),
                "significant": tested.sig.mean(),
                "coverage": tested.covers.mean(),
                "right_sign": (tested.right_sign.sum() / tested.sig.sum())
                if tested.sig.any() and not null
                else np.nan,
            }
        )
    fw = (
        raw[raw.null]
        .groupby(["scenario", "audit"])
        .sig.any()
        .groupby("scenario")
        .agg(["mean", "size"])
    )
    for scenario, r in fw.iterrows():
        out.append(
            {
                "scenario": scenario,
                "hypothesis": "fwer (any true-null primary test significant)",
                "truth": "null",
                "tests": int(r["size"]),
                "significant": float(r["mean"]),
            }
        )
    return pd.DataFrame(out)
