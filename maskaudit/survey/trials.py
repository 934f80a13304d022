"""Survey trials: one masked probe and K unmasked candidates, drawn from the identification protocol.

A trial asks "which of these K people is the masked person, or none of them?". Its rules:

* **closed** trials: exactly one candidate is the probe's identity (its *mate*): another unmasked
  photo of that identity, never the probe's own original and never one of its near-duplicates
  (``results/protocol/<dataset>/images.tsv``). The mate's identity must be in the open-set gallery.
* **open** trials: no candidate is the probe's identity (the right answer is "none of these").
* every candidate is a different identity, drawn from the gallery identities of the open-set split,
  one unmasked image each, never a photo the duplicate screen found to be the probe's own picture
  under another identity (``duplicates_across``); distractors come from the probe's own gender x race cell first
  (demographically matched, as NIST FRVT matches impostors), then from the other cells; the trial
  records how many were matched.
* **attention** checks: an unmasked probe whose identical image is among the candidates. They are
  answered by anyone who looks, are never scored as accuracy, and exclude inattentive participants.

Probes never come from identities set aside to calibrate thresholds (``calibration`` column, when
``protocol.calibration_share`` > 0), whose rates the audit leaves out too.

Balance: for every gender x race cell of the dataset (``unknown`` is a cell of its own) and every
surveyed mask variant, up to ``per_cell`` closed and ``per_cell`` open trials, each masked probe image
used at most once per variant. A cell with too few eligible probes gets fewer trials; ``design.tsv``
says how many were asked for, how many could be built and from how many eligible probes, so no
shortfall is silent. Every draw comes from a generator seeded by (seed, dataset, "survey", ...), so
the same config gives the same trials, candidate order included.

The trial id is a hash of its content (dataset, kind, variant, probe, candidates in order): responses
collected for one build never silently attach to a different trial.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from maskaudit.seeding import rng_for

KINDS = ("closed", "open", "attention")
NONE = -1  # the answer "none of these"

KEY_COLUMNS = [
    "trial_id",
    "dataset",
    "kind",
    "variant",
    "probe_id",
    "probe_identity",
    "probe_gender",
    "probe_race",
    "candidate_ids",
    "candidate_identities",
    "answer",
    "matched_distractors",
]


@dataclass(frozen=True)
class Design:
    variants: tuple[str, ...]
    candidates: int = 4  # K candidates per trial
    per_cell: int = 2  # closed and open trials per (gender x race cell, variant)
    attention: int = 2  # attention checks in the survey
    seed: int = 0

    @classmethod
    def from_config(cls, survey: dict, seed: int) -> Design:
        """From the config's ``survey`` section (the one place its keys become these fields)."""
        return cls(
            variants=tuple(survey["variants"]),
            candidates=survey["candidates"],
            per_cell=survey["trials_per_cell"],
            attention=survey["attention_checks"],
            seed=seed,
        )

    def __post_init__(self):
        if self.candidates < 2:
            raise ValueError(
                f"survey.candidates is {self.candidates}: a trial needs at least 2 candidates"
            )
        if self.per_cell < 0 or self.attention < 0:
            raise ValueError("survey.trials_per_cell and survey.attention_checks must be >= 0")
        if "none" in self.variants:
            raise ValueError(
                "survey.variants lists 'none': probes are masked; attention checks are the unmasked trials"
            )


def trial_id(dataset: str, kind: str, variant: str, probe: str, candidates) -> str:
    text = "\x1f".join([dataset, kind, variant, probe, *candidates])
    return "t" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _id_sets(protocol: pd.DataFrame, column: str) -> dict[str, set[str]]:
    """image id -> the ``;``-joined ids of ``column`` (empty sets when an older table lacks it)."""
    if column not in protocol:
        return {}
    return {
        i: set(filter(None, str(v).split(";"))) for i, v in zip(protocol.image_id, protocol[column])
    }


def _ok(masked: pd.DataFrame) -> set[str]:
    return set(masked.loc[masked.status.astype(str) == "ok", "image_id"].astype(str))


class _Gallery:
    """Gallery identities (open-set split) with their displayable unmasked images."""

    def __init__(self, manifest: pd.DataFrame, protocol: pd.DataFrame, unmasked_ok: set[str]):
        split = dict(zip(protocol.image_id.astype(str), protocol.open_set.astype(str)))
        m = manifest[
            manifest.image_id.isin(unmasked_ok) & manifest.image_id.map(split).eq("gallery")
        ]
        self.images = {i: sorted(g.image_id) for i, g in m.groupby("identity")}
        cells = manifest.drop_duplicates("identity").set_index("identity")
        self.cell = {i: (cells.at[i, "gender"], cells.at[i, "race"]) for i in cells.index}
        self.identities = sorted(self.images)

    def distractors(
        self, rng, exclude: str, cell, n: int, avoid=frozenset()
    ) -> tuple[list[str], int]:
        """``n`` distinct identities other than ``exclude`` with an image outside ``avoid``, same cell
        first; ``([], 0)`` if too few."""
        others = [i for i in self.identities if i != exclude and set(self.images[i]) - set(avoid)]
        if len(others) < n:
            return [], 0
        same = [i for i in others if self.cell[i] == cell]
        rest = [i for i in others if self.cell[i] != cell]
        same = [same[j] for j in rng.permutation(len(same))]
        rest = [rest[j] for j in rng.permutation(len(rest))]
        chosen = (same + rest)[:n]
        return chosen, min(len(same), n)

    def image(self, rng, identity: str, avoid=()) -> str | None:
        options = [i for i in self.images.get(identity, []) if i not in avoid]
        return options[rng.integers(len(options))] if options else None


def build_trials(
    manifest: pd.DataFrame,
    protocol: pd.DataFrame,
    masked: dict[str, pd.DataFrame],
    design: Design,
    dataset: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(key, design_table)``. ``masked``: variant -> the masking stage's manifest, ``none`` included.

    ``key`` has :data:`KEY_COLUMNS` (answer: the mate's 0-based position, or -1 = none of these);
    ``design_table`` one row per (gender, race, variant, kind): requested, built, eligible.
    """
    manifest = manifest.assign(
        **{c: manifest[c].astype(str) for c in ("image_id", "identity", "gender", "race")}
    )
    if "none" not in masked:
        raise ValueError("the survey needs the unmasked images (variant 'none')")
    missing = [v for v in design.variants if v not in masked]
    if missing:
        raise ValueError(
            f"survey variant(s) {missing} have no masked images; list them under masks.variants"
        )
    dup, across = _id_sets(protocol, "near_duplicates"), _id_sets(protocol, "duplicates_across")
    calibration = (
        set(protocol.image_id[protocol.calibration.astype(str) == "calibration"])
        if "calibration" in protocol
        else set()
    )
    gallery = _Gallery(manifest, protocol, _ok(masked["none"]))
    info = manifest.set_index("image_id")
    k = design.candidates
    rows, plan = [], []

    def add(kind, variant, probe, candidates, answer, matched):
        ids = list(candidates)
        rows.append(
            {
                "trial_id": trial_id(dataset, kind, variant, probe, ids),
                "dataset": dataset,
                "kind": kind,
                "variant": variant,
                "probe_id": probe,
                "probe_identity": info.at[probe, "identity"],
                "probe_gender": info.at[probe, "gender"],
                "probe_race": info.at[probe, "race"],
                "candidate_ids": ";".join(ids),
                "candidate_identities": ";".join(info.at[c, "identity"] for c in ids),
                "answer": answer,
                "matched_distractors": matched,
            }
        )

    cells = sorted(manifest.groupby(["gender", "race"]).groups)
    for variant in design.variants:
        ok = _ok(masked[variant])
        for gender, race in cells:
            rng = rng_for(design.seed, dataset, "survey", variant, gender, race)
            probes = sorted(
                manifest.image_id[
                    (manifest.gender == gender)
                    & (manifest.race == race)
                    & manifest.image_id.isin(ok)
                    & ~manifest.image_id.isin(calibration)
                ]
            )
            probes = [probes[j] for j in rng.permutation(len(probes))]
            used, built = set(), {"closed": 0, "open": 0}
            eligible = {"closed": 0, "open": 0}
            for kind in ("closed", "open"):
                for probe in probes:
                    ident = info.at[probe, "identity"]
                    mate = (
                        gallery.image(rng, ident, avoid={probe} | dup.get(probe, set()))
                        if kind == "closed"
                        else None
                    )
                    if kind == "closed" and mate is None:
                        continue
                    n_distractors = k - 1 if kind == "closed" else k
                    avoid = across.get(probe, set())
                    others, matched = gallery.distractors(
                        rng, ident, (gender, race), n_distractors, avoid
                    )
                    if not others:
                        continue
                    eligible[kind] += 1
                    if probe in used or built[kind] >= design.per_cell:
                        continue
                    candidates = [gallery.image(rng, i, avoid) for i in others] + (
                        [mate] if mate else []
                    )
                    order = rng.permutation(len(candidates))
                    candidates = [candidates[j] for j in order]
                    answer = candidates.index(mate) if mate else NONE
                    add(kind, variant, probe, candidates, answer, matched)
                    used.add(probe)
                    built[kind] += 1
            for kind in ("closed", "open"):
                plan.append(
                    {
                        "gender": gender,
                        "race": race,
                        "variant": variant,
                        "kind": kind,
                        "requested": design.per_cell,
                        "built": built[kind],
                        "eligible": eligible[kind],
                    }
                )
    rng = rng_for(design.seed, dataset, "survey", "attention")
    pool = [i for ident in gallery.identities for i in gallery.images[ident]]
    built = 0
    for j in rng.permutation(len(pool)):
        if built >= design.attention:
            break
        probe = pool[j]
        avoid = across.get(probe, set())
        others, matched = gallery.distractors(
            rng,
            info.at[probe, "identity"],
            tuple(info.loc[probe, ["gender", "race"]]),
            k - 1,
            avoid,
        )
        if not others:
            continue
        candidates = [gallery.image(rng, i, avoid) for i in others] + [probe]
        candidates = [candidates[j] for j in rng.permutation(len(candidates))]
        add("attention", "none", probe, candidates, candidates.index(probe), matched)
        built += 1
    plan.append(
        {
            "gender": "all",
            "race": "all",
            "variant": "none",
            "kind": "attention",
            "requested": design.attention,
            "built": built,
            "eligible": len(pool),
        }
    )
    key = pd.DataFrame(rows, columns=KEY_COLUMNS)
    if key.trial_id.duplicated().any():
        raise ValueError(
            "two survey trials have the same content; this is a bug in the trial builder"
        )
    return key, pd.DataFrame(plan)


def check_trial(row) -> list[str]:
    """The protocol's rules for one key row; an empty list when the trial keeps every one of them."""
    problems = []
    cands = str(row.candidate_ids).split(";")
    idents = str(row.candidate_identities).split(";")
    if len(set(idents)) != len(idents):
        problems.append("candidates repeat an identity")
    mates = [j for j, i in enumerate(idents) if i == row.probe_identity]
    if row.kind == "attention":
        if cands[int(row.answer)] != row.probe_id:
            problems.append("attention check without its identical image")
        return problems
    if row.probe_id in cands:
        problems.append("the probe's own original is a candidate")
    if row.kind == "closed" and mates != [int(row.answer)]:
        problems.append("closed trial without exactly one mate at the answer's position")
    if row.kind == "open" and (mates or int(row.answer) != NONE):
        problems.append("open trial with a mate among the candidates")
    return problems
