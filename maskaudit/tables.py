"""The metrics stage: every table of one (system, dataset), and the collected tables.

This module only orchestrates: it seeds the identity bootstrap and the label permutations once, and
hands them to the statistics under :mod:`maskaudit.stats` (one module per table:
:mod:`~maskaudit.stats.group_rates`, :mod:`~maskaudit.stats.gaps`, :mod:`~maskaudit.stats.mask_effects`,
:mod:`~maskaudit.stats.clustering`, :mod:`~maskaudit.stats.hypotheses`). Settings: :class:`MetricsSettings`.

Input: the score files of every variant (:mod:`maskaudit.protocol`) and the global thresholds.
Output tables (one row per value; column meanings in ``README.md`` and the report captions):

``rates``
    one row per (variant, attribute, group, comparison, measure, threshold). Groups: ``overall``
    (``all``), ``gender``, ``race`` and ``gender_race``; a probe belongs to its identity's group.
    Measures (``value = errors / trials`` for error rates, ``1 - errors / trials`` for success rates):

    Every error measure comes acquired only (``reid_fnmr``, ``fnmr``, ``fmr``, ``rank{k}``, ``fnir``,
    ``fpir``) and system-level (``<measure>_system``, ISO/IEC 19795-1: the system's own failures to
    acquire, ``model_*`` and ``vendor_*``, count as errors; pipeline failures, ``dataset`` and
    ``mask_*``, are left out of the trials and reported as ``fta_pipeline``); see
    :mod:`maskaudit.stats.measures`.

    * reidentification: ``reid_rate`` (= 1 - ``reid_fnmr_system``), ``reid_fnmr`` (acquired only);
    * verification: ``fnmr`` (mated, acquired), ``fnmr_system``,
      ``fmr`` (impostors with both sides in the group; overall = every impostor; acquired only: a
      failed impostor comparison is never counted as a correct rejection), ``fta_impostor``, and
      ``eer_group_own_threshold``: the group's EER at the group's own EER threshold, a per-group
      quantity (no interval; never used for decisions); its ``errors`` are the false matches plus
      false non-matches at that threshold and ``trials`` the genuine plus impostor scores used;
    * identification: ``rank1`` ... ``rank{k}`` (the CMC; closed set, mated acquired searches),
      ``*_system`` and ``*_acquired`` (the same counts as the plain names); ``fnir`` /
      ``fnir_acquired`` (open set, mate not at rank 1 with score >= the
      FPIR threshold) and ``fpir`` (non-mated acquired searches with any candidate >= threshold);
    * acquisition: ``fta``, ``fta_system``, ``fta_pipeline`` and ``fta_<origin>`` (dataset, mask, model,
      vendor) over probe images.

    A comparison-only system whose 1:N was not run (``identification_source = not_run`` in its
    identification score file) gets identification rows with NaN values, zero trials and a ``note``
    column giving the reason (the column exists only when some row has a note).

    Each row has ``errors``/``trials``, ``under_30_errors`` (Doddington's rule of 30: fewer than 30
    errors, or fewer than 30 successes for a success rate's complement, so the rate is not yet
    trustworthy), the Clopper-Pearson interval ``cp_low``/``cp_high`` and the identity-bootstrap
    interval ``boot_low``/``boot_high``.
``differentials``
    per (variant, attribute, threshold, error measure): worst and best group with their errors,
    trials and identities, ``difference`` (max - min) and ``ratio``: a **description** beside
    ``difference_null_mean`` (max - min's mean under shuffled group labels, what noise alone gives)
    and ``p_permutation`` (a test that no group differs). No interval: the groups are picked on the data.
``fairness``
    FDR, GARBE and inequity rate of (FMR, FNMR) with bootstrap intervals, once with the acquired
    ``fnmr`` and once with ``fnmr_system`` where the rates have it (``fnmr_measure``); NaN with a
    ``reason`` when a group has fewer than ``min_group_errors`` errors.
``mask_effects``
    masked minus unmasked per group, with intervals; the change of the max - min gap beside its
    ``null_expectation`` (a description, no interval).
``clustering``
    C_k per principal component of the non-mated subject x subject matrix, with ``null_expected``
    ``(G - 1) / (N - 1)``, the permutation ``null_mean`` and ``p_value``.
``tests``
    the predeclared tests (:mod:`maskaudit.stats.hypotheses`): signed, paired contrasts with
    identity-bootstrap intervals, permutation p-values, Holm per (system, dataset, role) and verdicts.

Groups labelled ``unknown`` get rate rows but are left out of differentials and tests. No bootstrap
interval is given for fewer than ``min_identities`` identities contributing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from maskaudit.seeding import rng_for
from maskaudit.stats.bootstrap import identity_weights
from maskaudit.stats.clustering import clustering_table
from maskaudit.stats.gaps import differentials_table, fairness_table
from maskaudit.stats.group_rates import rates_table
from maskaudit.stats.groups import ATTRIBUTES, identity_groups, known
from maskaudit.stats.hypotheses import Settings, tests_table
from maskaudit.stats.mask_effects import mask_effects_table
from maskaudit.stats.permutation import permuted_labels

__all__ = ["MetricsSettings", "audit_tables", "collect"]


@dataclass(frozen=True)
class MetricsSettings:
    """What the metrics stage reads from the config; :meth:`from_config` is the one place that maps
    config keys to these fields.

    ``n_boot``/``n_perm``: identity-bootstrap replicates and label permutations (``stats.bootstrap``,
    ``stats.permutations``); ``rank_k``: the CMC's depth (``protocol.rank_k``); ``fairness_alpha``: the
    FMR weight of FDR/GARBE/inequity (``stats.fairness_alpha``); ``level``: interval coverage
    (``stats.confidence``); ``n_components``: C_k components (``stats.clustering_components``);
    ``min_identities``: no bootstrap interval for fewer identities contributing (``stats.min_identities``);
    ``min_group_errors``: fairness summaries are NaN when a group has fewer errors
    (``stats.min_group_errors``); ``tests``: the predeclared tests' settings (``stats.tests``;
    :mod:`maskaudit.stats.hypotheses`, built from the fields above when None); ``seed``: the run's seed.
    """

    seed: int
    n_boot: int
    n_perm: int
    rank_k: int
    fairness_alpha: float = 0.5
    level: float = 0.95
    n_components: int = 10
    min_identities: int = 20
    min_group_errors: int = 30
    tests: Settings | None = None

    def __post_init__(self):
        if self.tests is None:
            object.__setattr__(
                self,
                "tests",
                Settings(
                    n_boot=self.n_boot,
                    n_perm=self.n_perm,
                    level=self.level,
                    min_identities=self.min_identities,
                ),
            )

    @classmethod
    def from_config(cls, config: dict) -> MetricsSettings:
        """From the workflow config (its ``stats`` and ``protocol`` sections and ``seed``)."""
        stats = config["stats"]
        return cls(
            seed=config["seed"],
            n_boot=stats["bootstrap"],
            n_perm=stats["permutations"],
            rank_k=config["protocol"]["rank_k"],
            fairness_alpha=stats["fairness_alpha"],
            level=stats["confidence"],
            n_components=stats["clustering_components"],
            min_identities=stats["min_identities"],
            min_group_errors=stats["min_group_errors"],
            tests=Settings.from_config(stats),
        )


def audit_tables(
    variants: list[dict],
    scores: dict,
    manifest: pd.DataFrame,
    thresholds: dict,
    *,
    labels: dict,
    dataset: str,
    settings: MetricsSettings,
) -> dict:
    """All tables of one (system, dataset): ``rates``, ``differentials``, ``fairness``, ``mask_effects``,
    ``clustering`` and ``tests``. ``scores[variant_id]``: the ``reid``, ``verification`` and
    ``identification`` frames and the ``impostors`` arrays (:func:`maskaudit.protocol.stage.load_scores`).
    ``dataset`` names the random streams (with ``settings.seed``); ``labels`` lead every row."""
    s = settings
    ver_thr = {r["name"]: float(r["similarity"]) for r in thresholds["verification"]}
    id_thr = {r["name"]: float(r["similarity"]) for r in thresholds["identification"]}
    identities = [str(x) for x in scores[variants[0]["id"]]["impostors"]["identity"]]
    n = len(identities)
    groups = identity_groups(manifest, identities)
    weights = identity_weights(
        np.zeros(n, dtype=int), s.n_boot, rng_for(s.seed, dataset, "bootstrap")
    )
    perm_rng = {a: rng_for(s.seed, dataset, "permutation", a) for a in ATTRIBUTES}
    perm_labels = {}
    for a in ATTRIBUTES[1:]:
        names = sorted(g for g in set(groups[a]) if known(g))
        codes = np.array([names.index(g) if g in names else -1 for g in groups[a]])
        perm_labels[a] = (names, codes, permuted_labels(codes, s.n_perm, perm_rng[a]))
    images = manifest.assign(identity=manifest.identity.astype(str))

    rates, reps, measures_by_variant = rates_table(
        variants,
        scores,
        identities,
        groups,
        images,
        weights,
        labels,
        ver_thr,
        id_thr,
        rank_k=s.rank_k,
        level=s.level,
        min_identities=s.min_identities,
    )
    perm_store = {}  # permuted group rates, shared by the differentials and the gap changes
    diff = differentials_table(
        variants, measures_by_variant, reps, groups, perm_labels, labels, perm_store
    )
    fair = fairness_table(
        variants,
        ver_thr,
        reps,
        groups,
        labels,
        s.fairness_alpha,
        s.level,
        min_identities=s.min_identities,
        min_group_errors=s.min_group_errors,
    )
    effects = mask_effects_table(
        variants,
        rates,
        reps,
        groups,
        labels,
        s.level,
        measures_by_variant,
        perm_labels,
        min_identities=s.min_identities,
        perm_store=perm_store,
    )
    clus = clustering_table(
        variants,
        scores,
        groups,
        labels,
        s.n_components,
        {a: perm_labels[a][2] for a in ATTRIBUTES[1:]},
    )
    tested = tests_table(
        variants, measures_by_variant, groups, labels, s.tests, seed=s.seed, dataset=dataset
    )
    return {
        "rates": rates,
        "differentials": diff,
        "fairness": fair,
        "mask_effects": effects,
        "clustering": clus,
        "tests": tested,
    }


def collect(frames: list[pd.DataFrame], attribute: str | None = None) -> pd.DataFrame:
    """Concatenate tables in input order; keep only ``attribute`` rows when given."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    if "note" in rows:  # only some systems have notes (a vendor whose 1:N was not run)
        rows["note"] = rows["note"].fillna("")
    return rows[rows.attribute == attribute] if attribute else rows
