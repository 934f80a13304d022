"""The predeclared tests of one (system, dataset), their Holm families and verdicts.

**Primary tests** (fixed before any data are seen, by the config ``stats.tests``): for every mask
variant ``v``, every primary measure ``m`` and threshold ``t`` and every primary attribute (default
``race`` and ``gender``),

* ``mask_effect`` per group ``g`` (and for everyone, attribute ``overall``): ``R_g,v - R_g,none``;
* ``mask_group_interaction`` for every pair of groups ``A < B`` (sorted names):
  ``(R_A,v - R_A,none) - (R_B,v - R_B,none)``.

**Exploratory tests** (labelled so; their own Holm family): ``group_difference`` ``R_A - R_B`` in every
variant (the unmasked baseline included); the same two hypotheses for the other attributes
(``gender_race``); and ``colour_group_contrast``: for two variants of the same mask kind in different
colours ``v1 < v2``, ``(R_A,v1 - R_A,v2) - (R_B,v1 - R_B,v2)`` over race groups (race is the proxy
for skin tone: no dataset here labels skin tone).

Only per-probe-identity error rates (1-D counts: FNMR-type measures, FNIR) are tested; impostor
rates (FMR) are pairs of identities and stay descriptive. Groups labelled ``unknown`` are not tested.

**Families**: one per (system, dataset, role). A family never spans systems or datasets, so adding a
model or a dataset changes no other verdict. The primary family gets enough permutations for its
smallest attainable p-value ``1/(n_perm + 1)`` to pass Holm's first step ``alpha / m``:
``n_perm = max(stats.permutations, ceil(2 m / alpha))``, capped at ``stats.max_permutations``; the
exploratory family keeps ``stats.permutations``. When a family's smallest p cannot pass Holm, each of
its rows' ``reason`` says so. Tests that could not run (too few identities) are
not part of the family.

**Verdict**: ``significant`` iff Holm-adjusted p < alpha **and** the bootstrap interval excludes 0 (it
then has the estimate's sign); ``too_few_samples`` when the test could not run; else ``not_significant``.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from maskaudit.seeding import rng_for
from maskaudit.stats import contrasts as K
from maskaudit.stats.groups import ATTRIBUTES, known_groups
from maskaudit.stats.permutation import holm

log = logging.getLogger(__name__)

PRIMARY, EXPLORATORY = "primary", "exploratory"
BASELINE = "none"
COLUMNS = [
    "family",
    "role",
    "hypothesis",
    "variant",
    "base_variant",
    "attribute",
    "group_a",
    "group_b",
    "comparison",
    "measure",
    "threshold",
    "estimate",
    "ci_low",
    "ci_high",
    "se",
    "p_value",
    "p_holm",
    "n_perm",
    "min_attainable_p",
    "verdict",
    "reason",
    "n_identities_a",
    "n_identities_b",
    "errors_a",
    "errors_b",
    "trials_a",
    "trials_b",
    "errors_a_base",
    "errors_b_base",
    "trials_a_base",
    "trials_b_base",
]


@dataclass(frozen=True)
class Spec:
    """One predeclared test: ``variant`` against ``base_variant`` (empty for a group difference)."""

    role: str
    hypothesis: str
    variant: str
    base_variant: str
    attribute: str
    group_a: str
    group_b: str
    measure: str
    threshold: str


@dataclass(frozen=True)
class Settings:
    measures: tuple = ("fnmr_system", "fnmr")
    thresholds: tuple = ("default",)
    attributes: tuple = ("race", "gender")
    exploratory_attributes: tuple = ("gender_race",)
    n_boot: int = 1000
    n_perm: int = 1000
    max_perm: int = 50000
    level: float = 0.95
    alpha: float = 0.05
    min_identities: int = 20

    @classmethod
    def from_config(cls, stats: dict) -> Settings:
        t = stats.get("tests", {})
        return cls(
            measures=tuple(t.get("measures", cls.measures)),
            thresholds=tuple(t.get("thresholds", cls.thresholds)),
            attributes=tuple(t.get("attributes", cls.attributes)),
            exploratory_attributes=tuple(
                t.get("exploratory_attributes", cls.exploratory_attributes)
            ),
            n_boot=stats.get("bootstrap", cls.n_boot),
            n_perm=stats.get("permutations", cls.n_perm),
            max_perm=stats.get("max_permutations", cls.max_perm),
            level=stats.get("confidence", cls.level),
            alpha=stats.get("alpha", cls.alpha),
            min_identities=stats.get("min_identities", cls.min_identities),
        )


def predeclared(variants: list[dict], groups: dict, available, settings: Settings) -> list[Spec]:
    """The tests of one (system, dataset). ``variants``: config entries (``id``, ``kind``, ``colour``);
    ``groups``: attribute -> the known group names; ``available``: the (measure, threshold) pairs the
    data have (others are skipped, with a log line)."""
    available = set(available)
    masked = [v for v in variants if v["id"] != BASELINE]
    has_base = any(v["id"] == BASELINE for v in variants)
    specs = []
    for measure, thr in itertools.product(settings.measures, settings.thresholds):
        if (measure, thr) not in available:
            log.info("tests: no %s at threshold %s here; its tests are skipped", measure, thr)
            continue
        for role, attributes in (
            (PRIMARY, settings.attributes),
            (EXPLORATORY, settings.exploratory_attributes),
        ):
            for v in masked if has_base else []:
                if role == PRIMARY:
                    specs.append(
                        Spec(
                            role,
                            "mask_effect",
                            v["id"],
                            BASELINE,
                            "overall",
                            "all",
                            "",
                            measure,
                            thr,
                        )
                    )
                for attribute in attributes:
                    names = groups.get(attribute, [])
                    specs += [
                        Spec(role, "mask_effect", v["id"], BASELINE, attribute, g, "", measure, thr)
                        for g in names
                    ]
                    specs += [
                        Spec(
                            role,
                            "mask_group_interaction",
                            v["id"],
                            BASELINE,
                            attribute,
                            a,
                            b,
                            measure,
                            thr,
                        )
                        for a, b in itertools.combinations(names, 2)
                    ]
        for v in variants:
            for attribute in (*settings.attributes, *settings.exploratory_attributes):
                specs += [
                    Spec(
                        EXPLORATORY, "group_difference", v["id"], "", attribute, a, b, measure, thr
                    )
                    for a, b in itertools.combinations(groups.get(attribute, []), 2)
                ]
        by_kind = {}
        for v in masked:
            by_kind.setdefault(v["kind"], []).append(v)
        for _kind, vs in sorted(by_kind.items()):
            for v1, v2 in itertools.combinations(sorted(vs, key=lambda v: v["id"]), 2):
                if v1["colour"] == v2["colour"]:
                    continue
                specs += [
                    Spec(
                        EXPLORATORY,
                        "colour_group_contrast",
                        v1["id"],
                        v2["id"],
                        "race",
                        a,
                        b,
                        measure,
                        thr,
                    )
                    for a, b in itertools.combinations(groups.get("race", []), 2)
                ]
    return specs


def permutations_for(m: int, settings: Settings, grow: bool = True) -> tuple[int, str]:
    """Permutations a family of ``m`` tests gets (``grow``: as many as Holm needs, up to the cap;
    else ``stats.permutations``), and a reason when its smallest p cannot pass Holm."""
    need = math.ceil(2 * m / settings.alpha) if m and grow else 0
    n_perm = min(max(settings.n_perm, need), max(settings.max_perm, settings.n_perm))
    if m and 1.0 / (n_perm + 1) > settings.alpha / m:
        return n_perm, (
            f"cannot pass Holm: smallest attainable p 1/({n_perm}+1) > alpha/m = "
            f"{settings.alpha}/{m}; raise stats.max_permutations"
        )
    return n_perm, ""


def run_tests(
    specs: list[Spec],
    counts,
    labels: dict,
    settings: Settings,
    *,
    seed_parts: tuple,
    family_prefix: str = "",
) -> pd.DataFrame:
    """Run every spec and add Holm and verdicts per family.

    ``counts(variant, measure, threshold) -> (errors, trials)``: per-identity arrays (``None`` when
    absent); ``labels``: attribute -> per-identity group names (same identity order).
    ``seed_parts`` seed every test's generator together with the test's own key, so a test's draws do
    not depend on which other tests run (or on the system: differences between systems are paired).
    """
    rows = []
    families = {}
    for role in (PRIMARY, EXPLORATORY):
        m = sum(1 for s in specs if s.role == role)
        families[role] = permutations_for(m, settings, grow=role == PRIMARY)
    for spec in specs:
        n_perm, cap_reason = families[spec.role]
        rng = rng_for(*seed_parts, "tests", *(getattr(spec, f) for f in Spec.__dataclass_fields__))
        cur = counts(spec.variant, spec.measure, spec.threshold)
        base = (
            counts(spec.base_variant, spec.measure, spec.threshold) if spec.base_variant else None
        )
        kw = dict(
            n_boot=settings.n_boot,
            n_perm=n_perm,
            rng=rng,
            level=settings.level,
            min_identities=settings.min_identities,
        )
        lab = np.asarray(labels[spec.attribute]).astype(str)
        in_a = lab == spec.group_a
        pair = (spec.group_a, spec.group_b)
        if cur is None or (spec.base_variant and base is None):
            res = K.Contrast(reason="measure absent in a variant")
        elif spec.hypothesis == "mask_effect":
            res = K.mask_effect(cur[0], cur[1], base[0], base[1], in_a, **kw)
        elif spec.hypothesis == "group_difference":
            res = K.group_difference(cur[0], cur[1], in_a, lab == spec.group_b, names=pair, **kw)
        else:
            res = K.difference_in_differences(
                cur[0], cur[1], base[0], base[1], in_a, lab == spec.group_b, names=pair, **kw
            )
        row = {"family": f"{family_prefix}{spec.role}", **spec.__dict__, **res.as_dict()}
        if res.tested and cap_reason:
            row["reason"] = cap_reason
        rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "comparison"])
    return add_verdicts(out, settings.alpha)


def add_verdicts(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Holm within each ``family``; ``verdict`` from the adjusted p and the interval (module docstring)."""
    out = table.copy()
    out["p_holm"] = np.nan
    for _, idx in out.groupby("family", sort=False).groups.items():
        out.loc[idx, "p_holm"] = holm(out.loc[idx, "p_value"].to_numpy(dtype=float))
    tested = out.p_value.notna()
    excludes = (out.ci_low > 0) | (out.ci_high < 0)
    reject = out.p_holm < alpha
    out["verdict"] = np.where(
        ~tested, "too_few_samples", np.where(reject & excludes, "significant", "not_significant")
    )
    out.loc[reject & ~excludes & tested, "reason"] = "Holm p < alpha but the interval includes 0"
    quiet = tested & ~reject & excludes & (out.reason == "")
    out.loc[quiet, "reason"] = "the interval excludes 0 but Holm p >= alpha"
    return out


def tests_table(
    variants, measures_by_variant, groups, labels, settings: Settings, *, seed, dataset
) -> pd.DataFrame:
    """The predeclared tests of one (system, dataset), Holm per (system, dataset, role). Only
    per-probe-identity (1-D) error measures are tested. ``measures_by_variant[variant]``:
    :class:`maskaudit.stats.measures.Measures`; ``groups``: :func:`maskaudit.stats.groups.identity_groups`."""
    counts, comparison = {}, {}
    for vid, meas in measures_by_variant.items():
        for comp, measure, thr, _, success, c in meas.items:
            if not success and not c.pairwise:
                counts[(vid, measure, thr)] = (c.errors, c.trials)
                comparison[measure] = comp
    names = {a: known_groups(groups, a) for a in ATTRIBUTES}
    specs = predeclared(variants, names, {(m, t) for _, m, t in counts}, settings)
    prefix = "/".join(str(labels[k]) for k in ("model", "dataset") if k in labels)
    table = run_tests(
        specs,
        lambda v, m, t: counts.get((v, m, t)),
        {a: groups[a].to_numpy() for a in ATTRIBUTES},
        settings,
        seed_parts=(seed, dataset),
        family_prefix=f"{prefix}/" if prefix else "",
    )
    table.insert(
        table.columns.get_loc("measure"), "comparison", table.measure.map(comparison).fillna("")
    )
    for k, v in reversed(list(labels.items())):
        table.insert(0, k, v)
    return table
