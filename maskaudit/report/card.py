"""One system card: what each mask costs one system on one dataset, for whom, with what certainty.

Built from that system's own files only, so adding a system builds its card and leaves the others:

* ``results/metrics/<model>/<dataset>/rates.tsv`` and ``mask_effects.tsv`` (rule ``compute_metrics``),
  the rows that ``collect_table`` gathers into ``results/tables/``;
* ``results/thresholds/<model>/<dataset>.json`` (rule ``fix_thresholds``): which fixed-FMR thresholds
  exist and why the others are unsupported;
* the embedding (or comparison) sidecars of every variant: model version, pipeline, weights SHA-256.

The card's HTML is a fragment; the page (``maskaudit.report.page``) adds the predeclared tests'
verdicts into it (``<!--verdicts-->``), because a test's Holm adjustment spans the whole table.
Every number is a link to its row (``maskaudit.report.sources``); a number resting on fewer than 30
errors (or successes) or on fewer than ``min_identities`` identities carries a warning sign.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from maskaudit.report.figures import data_uri, group_panels
from maskaudit.report.sources import (
    Citations,
    SourceTable,
    esc,
    fmt_count,
    missing,
    number,
    small_sample,
)
from maskaudit.report.verdicts import measure_label, threshold_label

SIDECAR_FACTS = (
    "name",
    "system",
    "kind",
    "family",
    "engine",
    "deepface_name",
    "deepface_version",
    "device",
    "alignment",
    "metric",
    "threshold",
    "threshold_source",
    "similarity_scale",
    "dim",
)
FTA_ORIGINS = ("fta", "fta_dataset", "fta_mask", "fta_model", "fta_vendor")
SYSTEM_MEASURES = {
    "reid_fnmr": "reid_fnmr_system",
    "fnmr": "fnmr_system",
    "rank1": "rank1_system",
    "fnir": "fnir_system",
}
VERDICTS_SLOT = "<!--verdicts:{model}.{dataset}-->"


def card_id(model: str, dataset: str) -> str:
    return f"card-{model}-{dataset}"


def fixed_fmr_threshold(thresholds: dict, fmr: float | None) -> tuple[str | None, str]:
    """The verification threshold name at the report's fixed FMR, and a note saying how it was chosen.

    ``fmr`` given: the threshold with that target (``None`` when it is unsupported); ``None``: the
    smallest supported target."""
    rows = [r for r in thresholds["verification"] if not missing(r["target"])]
    if fmr is not None:
        hit = [r for r in rows if math.isclose(float(r["target"]), float(fmr), rel_tol=1e-9)]
        if not hit:
            raise ValueError(
                f"report.fmr = {fmr} is not one of protocol.fmr_targets "
                f"({', '.join(str(r['target']) for r in rows)}); use one of them or null"
            )
        r = hit[0]
        if r["supported"]:
            return r["name"], f"FMR = {r['target']} (report.fmr)"
        return None, f"FMR = {r['target']} (report.fmr) is unsupported: {r['reason']}"
    ok = sorted((r for r in rows if r["supported"]), key=lambda r: float(r["target"]))
    if not ok:
        return None, "no fixed-FMR threshold is supported: " + "; ".join(r["reason"] for r in rows)
    return ok[0][
        "name"
    ], f"FMR = {ok[0]['target']} (the smallest supported target; report.fmr: null)"


def variants_of(rates: SourceTable) -> list[str]:
    if "variant" not in rates.frame:
        return []
    order = list(dict.fromkeys(rates.frame.variant.astype(str)))
    return (["none"] if "none" in order else []) + [v for v in order if v != "none"]


def _one(table: SourceTable, **key):
    rows = table.select(**key)
    if len(rows) > 1:
        raise ValueError(f"{table.path}: {len(rows)} rows for {key}; expected one")
    return None if rows.empty else rows.iloc[0]


class Card:
    """Builds one card's HTML and records what it cites."""

    def __init__(
        self,
        model: str,
        dataset: str,
        rates: SourceTable,
        effects: SourceTable,
        thresholds: dict,
        sidecars: dict,
        *,
        fmr: float | None,
        measure: str,
        min_identities: int,
        system_measures: bool = False,
    ):
        self.model, self.dataset = model, dataset
        self.rates, self.effects, self.thresholds = rates, effects, thresholds
        self.sidecars, self.measure, self.min_ids = sidecars, measure, min_identities
        self.system_measures = system_measures
        self.cites = Citations()
        self.n_numbers = 0
        self.n_flagged = 0
        self.fixed, self.fixed_note = fixed_fmr_threshold(thresholds, fmr)
        self.variants = variants_of(rates)

    # --- cited cells ---
    def cell(
        self, row, column="value", *, ci=("boot_low", "boot_high"), signed=False, rate_row=None
    ) -> str:
        if row is None:
            return '<td class="na">not measured</td>'
        warn = small_sample(rate_row if rate_row is not None else row, self.min_ids)
        self.n_numbers += 1
        self.n_flagged += bool(warn)
        table = self.effects if "effect" in row else self.rates
        cell = number(self.cites, table, row, column, signed=signed, ci=ci, warn=warn)
        return f"<td>{cell}</td>"

    def rate(self, variant, measure, threshold, attribute="overall", group="all"):
        return _one(
            self.rates,
            variant=variant,
            attribute=attribute,
            group=group,
            measure=measure,
            threshold=threshold,
        )

    def effect(self, variant, effect, measure, threshold, attribute="overall", group="all"):
        return _one(
            self.effects,
            variant=variant,
            effect=effect,
            attribute=attribute,
            group=group,
            measure=measure,
            threshold=threshold,
        )

    # --- sections ---
    def verification_thresholds(self) -> list[str]:
        names = [r["name"] for r in self.thresholds["verification"] if r["supported"]]
        fmr = sorted((n for n in names if n != "default"), key=lambda n: float(n.partition("_")[2]))
        return fmr + (["default"] if "default" in names else [])

    def identification_thresholds(self) -> list[str]:
        return [r["name"] for r in self.thresholds["identification"] if r["supported"]]

    def unsupported(self) -> str:
        rows = [
            r
            for s in ("verification", "identification")
            for r in self.thresholds[s]
            if not r["supported"]
        ]
        if not rows:
            return ""
        items = "".join(
            f"<li>{esc(threshold_label(r['name']))} ({esc(s)}): {esc(r['reason'])}</li>"
            for s in ("verification", "identification")
            for r in self.thresholds[s]
            if not r["supported"]
        )
        return (
            '<p class="note">Not reported, too few reference comparisons to fix the threshold:</p>'
            f'<ul class="note">{items}</ul>'
        )

    def rate_table(
        self, measure: str, thresholds: list[str], caption: str, delta: bool = True
    ) -> str:
        head = "".join(
            f"<th>{esc(threshold_label(t).removeprefix('the '))}</th>" for t in thresholds
        )
        show_delta = delta and self.fixed in thresholds
        if show_delta:
            head += f"<th>change vs unmasked at {esc(self.fixed_note.split(' (')[0])}</th>"
        body = []
        for v in self.variants:
            cells = "".join(self.cell(self.rate(v, measure, t)) for t in thresholds)
            if show_delta:
                if v == "none":
                    cells += '<td class="na">baseline</td>'
                else:
                    eff = self.effect(v, "masked_minus_unmasked", measure, self.fixed)
                    cells += self.cell(
                        eff,
                        ci=("ci_low", "ci_high"),
                        signed=True,
                        rate_row=self.rate(v, measure, self.fixed),
                    )
            body.append(f"<tr><th>{esc(v)}</th>{cells}</tr>")
        return (
            f'<table class="data"><caption>{caption}</caption><thead><tr><th>mask variant</th>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table>"
        )

    def identification_table(self) -> str:
        cols = [("rank1", "-", "rank-1 identification rate")]
        if self.system_measures:
            cols.append(("rank1_system", "-", "system rank-1 rate"))
        for t in self.identification_thresholds():
            cols.append(("fnir", t, f"FNIR at {threshold_label(t).removeprefix('the ')}"))
            if self.system_measures:
                cols.append(
                    ("fnir_system", t, f"system FNIR at {threshold_label(t).removeprefix('the ')}")
                )
        head = "".join(f"<th>{esc(c[2])}</th>" for c in cols)
        body = "".join(
            f"<tr><th>{esc(v)}</th>"
            + "".join(self.cell(self.rate(v, m, t)) for m, t, _ in cols)
            + "</tr>"
            for v in self.variants
        )
        return (
            f'<table class="data"><caption>Identification (open and closed set; the probe\'s own original '
            f"is not in the gallery)</caption><thead><tr><th>mask variant</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )

    def fta_table(self) -> str:
        origins = [
            m
            for m in (*FTA_ORIGINS, *(["fta_pipeline"] if self.system_measures else []))
            if not self.rates.select(measure=m).empty
        ]
        head = "".join(
            f"<th>{esc(m.replace('fta_', '') if m != 'fta' else 'all origins')}</th>"
            for m in origins
        )
        body = "".join(
            f"<tr><th>{esc(v)}</th>"
            + "".join(self.cell(self.rate(v, m, "-"), ci=None) for m in origins)
            + "</tr>"
            for v in self.variants
        )
        return (
            f'<table class="data"><caption>Failures to acquire by origin (share of probe images; a failure is '
            f"charged to the stage that failed and counted as a rejection or miss in the rates above)</caption>"
            f"<thead><tr><th>mask variant</th>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def groups_section(self) -> str:
        """The group view at the fixed FMR: a figure (panels per attribute) and, per attribute, a table
        with one row per mask variant and one column per group (the whole dataset first)."""
        if self.fixed is None:
            return f'<p class="note">No group view: {esc(self.fixed_note)}.</p>'
        m, t = self.measure, self.fixed
        quantity = f"{measure_label(m)} at {self.fixed_note.split(' (')[0]}"
        attributes = [a for a in ("gender", "race") if not self.rates.select(attribute=a).empty]
        panels, tables = {}, []
        overall = {v: self.rate(v, m, t) for v in self.variants}
        for k, a in enumerate(attributes):
            groups = sorted(
                set(self.rates.select(attribute=a, measure=m, threshold=t).group.astype(str))
            )
            found = {g: {v: self.rate(v, m, t, a, g) for v in self.variants} for g in groups}
            panels[a] = {
                g: [
                    (float("nan"),) * 3
                    if r is None
                    else (r["value"], r["boot_low"], r["boot_high"])
                    for r in (overall if g == "all" else found[g]).values()
                ]
                for g in ["all", *groups]
            }
            cols = ([("whole dataset", overall)] if k == 0 else []) + [
                (g, found[g]) for g in groups
            ]
            head = "".join(
                f"<th>{esc(g)}<br><small>{fmt_count(rows[self.variants[0]]['n_identities'])} identities</small></th>"
                if rows[self.variants[0]] is not None
                else f"<th>{esc(g)}</th>"
                for g, rows in cols
            )
            body = "".join(
                f"<tr><th>{esc(v)}</th>" + "".join(self.cell(rows[v]) for _, rows in cols) + "</tr>"
                for v in self.variants
            )
            tables.append(
                f'<table class="data"><caption>{esc(quantity)} by {esc(a)}</caption><thead><tr>'
                f"<th>mask variant</th>{head}</tr></thead><tbody>{body}</tbody></table>"
            )
        svg = group_panels(panels, self.variants, quantity=measure_label(m))
        figure = (
            f'<figure><img class="fig" alt="{esc(quantity)} by group and mask variant for {esc(self.model)}'
            f' on {esc(self.dataset)}" src="{data_uri(svg)}"><figcaption>{esc(quantity)} per group '
            f"(colours and markers) and for the whole dataset (black diamonds), with 95 % identity-bootstrap "
            f"intervals where two or more identities contribute. Values: the tables below.</figcaption></figure>"
        )
        return figure + "".join(tables) + self.gap_table(attributes)

    def gap_table(self, attributes) -> str:
        m, t = self.measure, self.fixed
        body = []
        for a in attributes:
            for v in self.variants[1:]:
                gap = self.effect(v, "gap_change", m, t, a, "max-min gap")
                inter = self.effect(v, "interaction", m, t, a, "max-min gap")
                body.append(
                    f"<tr><th>{esc(v)}</th><td>{esc(a)}</td>"
                    f"{self.cell(gap, ci=('ci_low', 'ci_high'), signed=True, rate_row={})}"
                    f"{self.cell(inter, ci=('ci_low', 'ci_high'), signed=True, rate_row={})}</tr>"
                )
        if not body:
            return ""
        return (
            '<table class="data"><caption>Mask x group: change of the max - min group gap in '
            f"{esc(measure_label(m))} (masked minus unmasked), and its interaction with the mask (this variant's "
            "gap change minus the mean over all masked variants), 95 % paired identity-bootstrap intervals"
            "</caption><thead><tr><th>mask variant</th><th>attribute</th><th>gap change</th>"
            f"<th>interaction</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
        )

    def headline(self) -> str:
        """One sentence from the rates: the baseline and each mask (or their range) at the fixed FMR."""
        if self.fixed is None:
            return f"No fixed-FMR result: {self.fixed_note}."
        m, t = self.measure, self.fixed
        base = self.rate("none", m, t)
        masked = [(v, self.rate(v, m, t)) for v in self.variants[1:]]
        masked = [(v, r) for v, r in masked if r is not None and not missing(r["value"])]
        if base is None or not masked:
            return f"No {measure_label(m)} at {self.fixed_note} for both the baseline and a mask."
        # the headline repeats numbers of the tables below (not counted)
        b = number(self.cites, self.rates, base)
        where = self.fixed_note.split(" (")[0]
        if len(masked) <= 4:  # few masks: each one
            each = ", ".join(
                f"{number(self.cites, self.rates, r)} under {esc(v)}" for v, r in masked
            )
            return f"At {esc(where)}, {esc(measure_label(m))} is {b} unmasked, and {each}."
        lo = min(masked, key=lambda x: (x[1]["value"], x[0]))
        hi = max(masked, key=lambda x: (x[1]["value"], x[0]))
        a, z = number(self.cites, self.rates, lo[1]), number(self.cites, self.rates, hi[1])
        return (
            f"At {esc(where)}, {esc(measure_label(m))} is {b} unmasked and ranges from {a} ({esc(lo[0])}) "
            f"to {z} ({esc(hi[0])}) under the {len(masked)} masks."
        )

    def system_facts(self) -> dict:
        """The sidecar facts every variant agrees on, and those that differ (a provenance warning)."""
        facts, differ = {}, set()
        for _path, side in sorted(self.sidecars.items()):
            for k in SIDECAR_FACTS:
                if k in side:
                    if k in facts and facts[k] != side[k]:
                        differ.add(k)
                    facts.setdefault(k, side[k])
        weights, wdiff = {}, set()
        for side in self.sidecars.values():
            for f, sha in (side.get("weights") or {}).items():
                if f in weights and weights[f] != sha:
                    wdiff.add(f)
                weights.setdefault(f, sha)
        pipeline = next(
            (s.get("pipeline") for s in self.sidecars.values() if s.get("pipeline")), None
        )
        return {
            "facts": facts,
            "differ": sorted(differ | {f"weights:{f}" for f in wdiff}),
            "weights": weights,
            "pipeline": pipeline,
            "sidecars": sorted(self.sidecars),
        }

    def html(self) -> str:
        sys_ = self.system_facts()
        facts = sys_["facts"]
        meta = ", ".join(
            f"{esc(k.replace('_', ' '))}: {esc(str(facts[k]))}" for k in SIDECAR_FACTS if k in facts
        )
        weights = "".join(
            f"<li><code>{esc(f)}</code> SHA-256 <code>{esc(sha)}</code></li>"
            for f, sha in sorted(sys_["weights"].items())
        )
        differ = (
            f'<p class="warnbox">The sidecars of this system\'s variants disagree on: '
            f"{esc(', '.join(sys_['differ']))}.</p>"
            if sys_["differ"]
            else ""
        )
        ver = self.verification_thresholds()
        sections = [
            f'<p class="headline">{self.headline()}</p>',
            self.rate_table(
                "reid_fnmr",
                ver,
                "Re-identification FNMR (each masked image against its own unmasked "
                "original; failures to acquire count as rejections)",
            ),
            self.rate_table(
                "fnmr",
                ver,
                "Verification FNMR (against the person's other unmasked photos; acquired pairs)",
            ),
        ]
        if self.system_measures:
            sections += [
                self.rate_table(
                    "reid_fnmr_system",
                    ver,
                    "System re-identification FNMR (ISO/IEC 19795-1: failures to acquire included)",
                    delta=False,
                ),
                self.rate_table(
                    "fnmr_system", ver, "System verification FNMR (ISO/IEC 19795-1)", delta=False
                ),
            ]
        sections += [
            self.rate_table("fmr", ver, "FMR (impostor pairs, acquired)", delta=False),
            self.unsupported(),
            self.identification_table(),
            self.fta_table(),
            f"<h4>For whom: groups at {esc(self.fixed_note)}</h4>",
            self.groups_section(),
        ]
        body = "".join(sections)
        warn = (
            f'<p class="warnbox small-sample">Small samples: {self.n_flagged} of the {self.n_numbers} numbers in '
            f"this card rest on fewer than 30 errors (or successes) or on fewer than {self.min_ids} identities "
            f"(marked &#9888;; hover for why). Read them as indicative only.</p>"
            if self.n_flagged
            else ""
        )
        figs = "".join(
            f'<li><a class="file" href="figures/{f}/{esc(self.model)}.{esc(self.dataset)}.png">{f}</a></li>'
            for f in (
                "rates_by_variant",
                "det",
                "cmc",
                "score_distributions",
                "forest",
                "mask_colour",
                "clustering",
            )
        )
        return (
            f'<section class="card" id="{card_id(self.model, self.dataset)}" data-model="{esc(self.model)}" '
            f'data-dataset="{esc(self.dataset)}"><h3>{esc(self.model)} on {esc(self.dataset)}</h3>'
            f'<p class="meta">{meta}</p>{differ}'
            f"{warn}{body}"
            f"<h4>Predeclared tests</h4>{VERDICTS_SLOT.format(model=self.model, dataset=self.dataset)}"
            f'<details class="more"><summary>Weights and more figures</summary><ul>{weights}</ul>'
            f"<p>Full-size figures of this system (PNG, beside this page in <code>results/</code>):</p>"
            f'<ul class="inline">{figs}</ul></details></section>'
        )

    def record(self) -> dict:
        """What the page needs besides the HTML: citations, system facts, counts."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "fixed_threshold": self.fixed,
            "fixed_note": self.fixed_note,
            "measure": self.measure,
            "numbers": self.n_numbers,
            "flagged": self.n_flagged,
            "system": self.system_facts(),
            "citations": self.cites.to_json(),
        }


def build_card(
    model: str,
    dataset: str,
    *,
    rates: str,
    mask_effects: str,
    thresholds: str,
    sidecars: list[str],
    fmr: float | None,
    measure: str,
    min_identities: int,
    system_measures: bool = False,
) -> tuple[str, dict]:
    """``(card html, card record)`` from the system's files (paths as the workflow names them)."""
    card = Card(
        model,
        dataset,
        SourceTable.read(rates, "compute_metrics"),
        SourceTable.read(mask_effects, "compute_metrics"),
        json.loads(Path(thresholds).read_text()),
        {p: json.loads(Path(p).read_text()) for p in sidecars},
        fmr=fmr,
        measure=measure,
        min_identities=min_identities,
        system_measures=system_measures,
    )
    html = card.html()
    return html, card.record()
