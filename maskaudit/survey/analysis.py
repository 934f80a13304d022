"""Humans against machines on the same trials: accuracy, paired contrasts, agreement, group gaps.

Inputs: the answer key (``key.tsv``), the exported responses (:data:`RESPONSE_COLUMNS`; lines
starting with ``#`` are comments) and each system's answers (:mod:`maskaudit.survey.machines`).

Conventions (every table says which rows it counts):

* A response is **correct** iff its choice equals the key's answer (the mate's position, or -1 =
  "none of these"); a time-out is wrong. A system's trial without an answer (a failure to acquire) is
  wrong, and counted in ``fta``.
* **Analysed responses**: participants who completed the survey and passed at least
  ``min_attention`` of their attention checks; attention checks themselves are never scored. Every
  response left out is counted in the ``quality`` table with its reason (unknown trial, other
  survey build, duplicate, invalid choice, incomplete participant, failed attention checks).
* **Uncertainty** is over the probes' identities (:mod:`maskaudit.stats.bootstrap`): the same
  seeded bootstrap weights for humans and every system, so their differences are paired. Human
  accuracy pools responses: ``sum_a w_a c_a / sum_a w_a n_a`` with ``c_a`` correct of ``n_a``
  responses to identity a's trials.
* **Humans vs a system** (:func:`maskaudit.survey.contrast.paired_contrast`, i.e.
  :func:`maskaudit.stats.contrasts.mask_effect`): per trial, the share of human responses that are
  correct minus the system's 0/1 correctness, averaged over the trials both answered (every trial
  with at least one human response in the condition), clustered by identity: bootstrap-t interval
  and studentised sign-flip p-value (``p_signflip``); Holm over each system's rows. A row resting on
  fewer than ``min_identities`` identities (``stats.min_identities``) keeps its difference but has no
  interval or p-value, and ``note`` says why.
* **Agreement**: a trial is a human hit when more than half its responses are correct (ties are
  misses); both-miss, both-hit, human-only and machine-only counts and Cohen's kappa.
* **Group gaps** per rater and attribute (groups labelled ``unknown`` left out): best minus worst
  group accuracy, bootstrap interval, and ``p_permutation`` from shuffling group labels among
  identities (:mod:`maskaudit.stats.permutation`); Holm within each rater.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.seeding import rng_for
from maskaudit.stats.bootstrap import identity_weights, interval, ratio_1d
from maskaudit.stats.permutation import group_sums_1d, holm, p_value, permuted_labels
from maskaudit.survey.contrast import paired_contrast

RESPONSE_COLUMNS = [
    "participant",
    "build",
    "condition",
    "trial_id",
    "position",
    "choice",
    "timed_out",
    "rt_ms",
    "status",
    "source",
]
ATTRIBUTES = ("overall", "gender", "race", "gender_race")
HUMANS = "humans"


def read_responses(path) -> pd.DataFrame:
    table = pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False)
    missing = [c for c in RESPONSE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; responses need {RESPONSE_COLUMNS} "
            "(write them with `maskaudit survey export`)"
        )
    return table


def _group(frame: pd.DataFrame, attribute: str) -> pd.Series:
    if attribute == "overall":
        return pd.Series("all", index=frame.index)
    if attribute == "gender_race":
        return frame.probe_gender + "/" + frame.probe_race
    return frame[f"probe_{attribute}"]


def clean_responses(
    responses: pd.DataFrame, key: pd.DataFrame, min_attention: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(analysed responses joined with the key, quality table)``."""
    quality = [("responses", len(responses), "rows in the responses file")]
    r = responses.copy()
    builds = set(key["build"]) if "build" in key else set()

    def drop(mask, item, note):
        nonlocal r
        quality.append((item, int(mask.sum()), note))
        r = r[~mask]

    drop(
        ~r.trial_id.isin(key.trial_id),
        "unknown_trial",
        "trial id not in this survey's key (left out)",
    )
    if builds:
        drop(
            ~r.build.isin(builds),
            "other_build",
            "collected for another build of the trials (left out)",
        )
    drop(
        r.duplicated(["participant", "trial_id"], keep="first"),
        "duplicate",
        "second answer to a trial (left out)",
    )
    valid = r.choice.str.fullmatch(r"-?\d+") | ((r.choice == "") & (r.timed_out == "true"))
    drop(~valid, "invalid_choice", "choice neither a position, -1 nor a time-out (left out)")
    r = r.merge(key, on="trial_id", how="left", validate="many_to_one")
    r["correct"] = (
        (r.choice != "")
        & (r.timed_out != "true")
        & (pd.to_numeric(r.choice, errors="coerce") == r.answer)
    )
    drop(r.status.ne("complete").to_numpy(), "incomplete", "participant did not finish (left out)")
    att = r[r.kind == "attention"].groupby("participant").correct.mean()
    failed = att.index[att < min_attention - 1e-12]
    drop(
        r.participant.isin(failed).to_numpy(),
        "failed_attention",
        f"participant passed under {min_attention:.0%} of attention checks (left out)",
    )
    drop(
        (r.kind == "attention").to_numpy(),
        "attention_checks",
        "attention-check answers (never scored)",
    )
    quality += [
        ("participants", responses.participant.nunique(), "distinct participants in the file"),
        ("participants_analysed", r.participant.nunique(), "complete and attentive"),
        (
            "participants_failed_attention",
            len(failed),
            f"under {min_attention:.0%} of attention checks",
        ),
        ("responses_analysed", len(r), "scored responses"),
        ("timeouts_analysed", int((r.timed_out == "true").sum()), "scored as wrong"),
        (
            "synthetic_responses",
            int((responses.source == "synthetic").sum()),
            "rows labelled synthetic (not human data)",
        ),
    ]
    return r.reset_index(drop=True), pd.DataFrame(quality, columns=["item", "count", "note"])


def machine_table(machines: dict[str, pd.DataFrame], key: pd.DataFrame) -> pd.DataFrame:
    """Trials x systems, long: ``trial_id``, ``system``, ``correct`` (bool), ``fta`` (bool)."""
    parts = []
    answers = key.set_index("trial_id").answer
    for system, m in machines.items():
        m = m[m.trial_id.isin(answers.index)]
        choice = pd.to_numeric(m.choice, errors="coerce")
        parts.append(
            pd.DataFrame(
                {
                    "trial_id": m.trial_id,
                    "system": system,
                    "correct": (choice == answers.loc[m.trial_id].to_numpy()).to_numpy(),
                    "fta": m.choice.astype(str).eq("").to_numpy(),
                }
            )
        )
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["trial_id", "system", "correct", "fta"])
    )


class Analysis:
    def __init__(
        self,
        key: pd.DataFrame,
        responses: pd.DataFrame,
        machines: dict[str, pd.DataFrame],
        *,
        dataset: str,
        seed: int,
        n_boot: int,
        n_perm: int,
        level: float,
        min_attention: float,
        min_identities: int = 10,
    ):
        key = key.assign(answer=key.answer.astype(int))
        self.key = key
        self.scored_key = key[key.kind != "attention"].reset_index(drop=True)
        self.responses, self.quality = clean_responses(responses, key, min_attention)
        self.machines = machine_table(machines, self.scored_key)
        self.systems = list(machines)
        self.dataset, self.seed, self.n_perm, self.level = dataset, seed, n_perm, level
        self.n_boot, self.min_identities = n_boot, min_identities
        self.identities = np.array(sorted(self.scored_key.probe_identity.unique()))
        self.weights = identity_weights(
            np.zeros(self.identities.size, dtype=int),
            n_boot,
            rng_for(seed, dataset, "survey", "bootstrap"),
        )
        self.conditions = sorted(self.responses.condition.unique(), key=_condition_order)

    # --- helpers ---
    def _per_identity(self, frame: pd.DataFrame, value: str) -> tuple[np.ndarray, np.ndarray]:
        idx = np.searchsorted(self.identities, frame.probe_identity.to_numpy())
        vals = frame[value].to_numpy(dtype=float)
        return (
            np.bincount(idx, weights=vals, minlength=self.identities.size),
            np.bincount(idx, minlength=self.identities.size).astype(float),
        )

    def _rater_rows(self, rater: str) -> pd.DataFrame:
        """One row per scored unit: human responses, or a system's trials (with ``fta``)."""
        if rater == HUMANS:
            return self.responses.assign(fta=False)
        m = self.machines[self.machines.system == rater]
        return m.merge(self.scored_key, on="trial_id").assign(condition="all", timed_out="false")

    def _slices(self, frame: pd.DataFrame, conditions: bool):
        variants = ["all", *sorted(frame.variant.unique())]
        conds = ["all", *self.conditions] if conditions else ["all"]
        for v in variants:
            fv = frame if v == "all" else frame[frame.variant == v]
            for c in conds:
                yield v, c, (fv if c == "all" else fv[fv.condition == c])

    # --- tables ---
    def accuracy(self) -> pd.DataFrame:
        rows = []
        for rater in [HUMANS, *self.systems]:
            frame = self._rater_rows(rater)
            for variant, cond, f in self._slices(frame, rater == HUMANS):
                for attribute in ATTRIBUTES:
                    groups = _group(f, attribute)
                    for g in sorted(groups.unique()):
                        sub = f[groups == g]
                        c, n = self._per_identity(sub, "correct")
                        lo, hi = (
                            interval(ratio_1d(self.weights, c, n), self.level)
                            if (n > 0).sum() >= 2
                            else (np.nan, np.nan)
                        )
                        rows.append(
                            {
                                "dataset": self.dataset,
                                "rater": rater,
                                "variant": variant,
                                "condition": cond,
                                "attribute": attribute,
                                "group": g,
                                "trials": len(sub),
                                "correct": int(sub.correct.sum()),
                                "accuracy": c.sum() / n.sum(),
                                "boot_low": lo,
                                "boot_high": hi,
                                "n_units": int((n > 0).sum()),
                                "timeouts": int((sub.timed_out == "true").sum()),
                                "fta": int(sub.fta.sum()),
                            }
                        )
        return pd.DataFrame(rows)

    def _trial_human(self, frame: pd.DataFrame) -> pd.DataFrame:
        h = (
            frame.groupby("trial_id")
            .correct.agg(["mean", "size"])
            .rename(columns={"mean": "human", "size": "n"})
        )
        return h.join(self.scored_key.set_index("trial_id")[["probe_identity", "variant"]])

    def versus(self) -> pd.DataFrame:
        rows = []
        for system in self.systems:
            m = self.machines[self.machines.system == system].set_index("trial_id")
            start = len(rows)
            for variant, cond, f in self._slices(self.responses, True):
                t = self._trial_human(f).join(m[["correct", "fta"]], how="inner")
                t["machine"] = t.correct.astype(float)
                x, n = self._per_identity(t, "human")
                y, _ = self._per_identity(t, "machine")
                res = paired_contrast(
                    x,
                    y,
                    n,
                    n_boot=self.n_boot,
                    n_perm=self.n_perm,
                    rng=rng_for(self.seed, self.dataset, "survey", "versus", system, variant, cond),
                    level=self.level,
                    min_identities=self.min_identities,
                )
                rows.append(
                    {
                        "dataset": self.dataset,
                        "system": system,
                        "variant": variant,
                        "condition": cond,
                        "trials": res["trials"],
                        "n_units": res["n_units"],
                        "human_accuracy": t.human.mean() if len(t) else np.nan,
                        "machine_accuracy": t.correct.mean() if len(t) else np.nan,
                        "machine_fta": int(t.fta.sum()),
                        "difference": res["estimate"],
                        "difference_low": res["low"],
                        "difference_high": res["high"],
                        "p_signflip": res["p"],
                        "note": res["reason"],
                    }
                )
            p = holm([r["p_signflip"] for r in rows[start:]])
            for r, q in zip(rows[start:], p):
                r["p_holm"] = q
        return pd.DataFrame(rows)

    def agreement(self) -> pd.DataFrame:
        rows = []
        human = self._trial_human(self.responses)
        human["hit"] = human.human > 0.5
        for system in self.systems:
            m = self.machines[self.machines.system == system].set_index("trial_id")
            both = human.join(m[["correct"]], how="inner")
            for variant in ["all", *sorted(both.variant.unique())]:
                b = both if variant == "all" else both[both.variant == variant]
                h, c = b.hit.to_numpy(bool), b.correct.to_numpy(bool)
                rows.append(
                    {
                        "dataset": self.dataset,
                        "system": system,
                        "variant": variant,
                        "trials": len(b),
                        "both_correct": int((h & c).sum()),
                        "both_miss": int((~h & ~c).sum()),
                        "human_only": int((h & ~c).sum()),
                        "machine_only": int((~h & c).sum()),
                        "kappa": cohen_kappa(h, c),
                    }
                )
        return pd.DataFrame(rows)

    def gaps(self) -> pd.DataFrame:
        rows = []
        for rater in [HUMANS, *self.systems]:
            frame = self._rater_rows(rater)
            start = len(rows)
            for attribute in ATTRIBUTES[1:]:
                groups = _group(frame, attribute)
                known = frame[~groups.str.contains("unknown")]
                label_of = (
                    known.assign(g=_group(known, attribute)).groupby("probe_identity").g.first()
                )
                names = sorted(label_of.unique())
                c, n = self._per_identity(known, "correct")
                codes = np.array(
                    [
                        names.index(label_of[i]) if i in label_of.index else -1
                        for i in self.identities
                    ]
                )
                res = group_gap(
                    c,
                    n,
                    codes,
                    len(names),
                    self.weights,
                    self.n_perm,
                    rng_for(self.seed, self.dataset, "survey", "gap", rater, attribute),
                    self.level,
                )
                rows.append(
                    {
                        "dataset": self.dataset,
                        "rater": rater,
                        "attribute": attribute,
                        "groups": len(names),
                        "trials": len(known),
                        "worst_group": names[res["worst"]] if res["worst"] >= 0 else "",
                        "best_group": names[res["best"]] if res["best"] >= 0 else "",
                        "gap": res["gap"],
                        "gap_low": res["low"],
                        "gap_high": res["high"],
                        "p_permutation": res["p"],
                        "note": "" if len(names) >= 2 else "fewer than two known groups: no gap",
                    }
                )
            for r, q in zip(rows[start:], holm([r["p_permutation"] for r in rows[start:]])):
                r["p_holm"] = q
        out = pd.DataFrame(rows)
        human_worst = out[out.rater == HUMANS].set_index("attribute").worst_group
        out["same_worst_as_humans"] = [
            ""
            if r.rater == HUMANS or not r.worst_group or not human_worst.get(r.attribute, "")
            else r.worst_group == human_worst[r.attribute]
            for r in out.itertuples()
        ]
        return out

    def trials(self) -> pd.DataFrame:
        h = self._trial_human(self.responses)
        out = self.scored_key[
            [
                "trial_id",
                "kind",
                "variant",
                "probe_id",
                "probe_identity",
                "probe_gender",
                "probe_race",
                "answer",
            ]
        ].set_index("trial_id")
        out["human_responses"] = h.n.reindex(out.index).fillna(0).astype(int)
        out["human_accuracy"] = h.human.reindex(out.index)
        for system in self.systems:
            m = self.machines[self.machines.system == system].set_index("trial_id")
            out[f"correct_{system}"] = (
                m.correct.reindex(out.index).map({True: "1", False: "0"}).fillna("")
            )
            out[f"both_miss_{system}"] = (out.human_accuracy <= 0.5) & m.correct.reindex(
                out.index
            ).eq(False)
        return out.reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "accuracy": self.accuracy(),
            "versus": self.versus(),
            "agreement": self.agreement(),
            "gaps": self.gaps(),
            "trials": self.trials(),
            "quality": self.quality.assign(dataset=self.dataset),
        }


def _condition_order(c: str):
    return (0, 0) if c == "none" else (1, int(c.rstrip("s")) if c.rstrip("s").isdigit() else 0)


def cohen_kappa(a, b) -> float:
    """``(p_o - p_e) / (1 - p_e)`` for two binary raters; NaN when ``p_e == 1`` or no items."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.size == 0:
        return float("nan")
    po = float(np.mean(a == b))
    pe = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    if pe >= 1:
        return float("nan")
    kappa = (po - pe) / (1 - pe)
    return 0.0 if abs(kappa) < 1e-12 else kappa


def group_gap(
    correct, trials, codes, n_groups: int, weights, n_perm: int, rng, level: float
) -> dict:
    """Best minus worst group accuracy over identities with a group code (>= 0).

    ``correct[a]``, ``trials[a]`` per identity; accuracy of group g = ``sum_{a in g} c_a / sum n_a``.
    Interval: identity bootstrap of the gap between the observed best and worst groups; test:
    ``p_permutation`` of the max - min gap over ``n_perm`` shuffles of the codes among identities.
    ``worst``/``best`` are group indices (lowest index wins ties), -1 when fewer than two groups.
    """
    c, n, codes = np.asarray(correct, float), np.asarray(trials, float), np.asarray(codes)
    nan = {"gap": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "worst": -1, "best": -1}
    if n_groups < 2:
        return nan
    sums = group_sums_1d(codes[None, :], c, n_groups)[0]
    counts = group_sums_1d(codes[None, :], n, n_groups)[0]
    if (counts == 0).any():
        return nan
    acc = sums / counts
    worst, best = int(np.argmin(acc)), int(np.argmax(acc))
    gap = float(acc[best] - acc[worst])
    in_w, in_b = (codes == worst).astype(float), (codes == best).astype(float)
    boot = ratio_1d(weights * in_b, c, n) - ratio_1d(weights * in_w, c, n)
    low, high = interval(boot, level)
    perm = permuted_labels(codes, n_perm, rng)
    ps, pn = group_sums_1d(perm, c, n_groups), group_sums_1d(perm, n, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        pacc = ps / pn
    stat = np.nanmax(pacc, 1) - np.nanmin(pacc, 1)
    return {
        "gap": gap,
        "low": low,
        "high": high,
        "p": p_value(gap, stat),
        "worst": worst,
        "best": best,
    }
