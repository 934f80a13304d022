"""The findings page, ``results/audit.html``: one standalone file, findings first.

Order: what was audited and how far to trust it; key findings per system; the systems x mask
variants heatmap of the masked error at one fixed FMR; the ranking with intervals and overlaps; the
largest group differences and mask x group interactions; the system cards with their predeclared
tests' verdicts; provenance; and the appendix of every table row a number was read from.

The page has no script and loads nothing: figures are inline SVG data, styles are in the page, and
links are either anchors inside it or relative paths to the workflow's own files beside it in
``results/``. A print stylesheet sets A4 pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from maskaudit.report.card import VERDICTS_SLOT, card_id
from maskaudit.report.figures import data_uri, heatmap
from maskaudit.report.sources import (
    Citations,
    SourceTable,
    esc,
    fmt_count,
    missing,
    number,
    small_sample,
)
from maskaudit.report.verdicts import (
    VERDICT_LABEL,
    counts,
    from_differentials,
    from_tests,
    measure_label,
    sentence,
    threshold_label,
)

CSS = """
:root { --ink:#1a1a1a; --muted:#555; --rule:#ccc; --sig:#0072B2; --few:#E69F00; --ns:#6b6b6b; }
body { font: 10.5pt/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: var(--ink); max-width: 48rem;
       margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 1px solid var(--rule); margin-top: 2rem; }
h3 { margin: .2rem 0 .4rem; } h4 { margin: 1rem 0 .3rem; }
.lede, .meta, .note, figcaption, caption { color: var(--muted); font-size: .9em; }
caption { text-align: left; caption-side: top; padding: .2rem 0; }
table.data { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: .85em; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid var(--rule); padding: .15rem .35rem; text-align: left;
       vertical-align: top; }
table.data td { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.data td.text { white-space: normal; }
td.na { color: var(--muted); font-style: italic; }
a.num { color: inherit; text-decoration: underline dotted; } .ci { color: var(--muted); }
.warn { color: #b35900; cursor: help; }
.warnbox { border-left: 4px solid var(--few); background: #fff6e5; padding: .4rem .6rem; }
.card { border: 1px solid var(--rule); border-radius: 4px; padding: .6rem .9rem; margin: 1rem 0; }
.headline { font-size: 1.02em; }
img.fig { width: 100%; height: auto; display: block; } figure { margin: .5rem 0; }
.badge { display: inline-block; padding: 0 .35rem; border-radius: 3px; font-size: .8em; font-weight: bold; }
.badge.significant { background: var(--sig); color: #fff; } .badge.not_significant { background: #e6e6e6; color: #222; }
.badge.too_few_samples { background: var(--few); color: #000; }
ul.verdicts li { margin: .2rem 0; } ul.inline li { display: inline; margin-right: .8rem; }
code { font-size: .85em; word-break: break-all; }
table.src td { white-space: normal; } table.src code { font-size: .75em; }
nav ol { columns: 2; font-size: .9em; }
.scroll { overflow-x: auto; }
@page { size: A4; margin: 18mm 16mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  nav, details.more { display: none; }
  a { color: inherit; text-decoration: none; }
  .card, figure, table.data { break-inside: avoid; }
  .scroll { overflow: visible; } table.data { font-size: 7.5pt; }
  .card { border: none; border-top: 2px solid var(--ink); border-radius: 0; padding: 0; }
  h2 { break-after: avoid; } #sources { break-before: page; }
  details > *:not(summary) { display: block; }
}
"""


_TABLE = re.compile(r'<table class="data[^"]*">.*?</table>', re.S)


def system_label(model: str, dataset: str) -> str:
    return f"{model} · {dataset}"


class Page:
    def __init__(
        self,
        *,
        cards: list[tuple[str, dict]],
        overall: SourceTable,
        differentials: SourceTable,
        mask_effects: SourceTable,
        thresholds: SourceTable,
        tests: SourceTable | None,
        manifests: dict,
        provenance: dict,
        fmr: float | None,
        measure: str,
        min_identities: int,
        top: int,
        alpha: float,
    ):
        self.cards = sorted(cards, key=lambda c: (c[1]["model"], c[1]["dataset"]))
        self.overall, self.diff, self.effects, self.thr, self.tests = (
            overall,
            differentials,
            mask_effects,
            thresholds,
            tests,
        )
        self.manifests, self.prov = manifests, provenance
        self.fmr, self.measure, self.min_ids, self.top, self.alpha = (
            fmr,
            measure,
            min_identities,
            top,
            alpha,
        )
        self.cites = Citations()
        for _, rec in self.cards:
            self.cites.merge(rec["citations"])
        self.systems = [(rec["model"], rec["dataset"]) for _, rec in self.cards]
        self.verdicts = (
            from_tests(tests.frame) if tests is not None else from_differentials(self.diff.frame)
        )
        self.threshold, self.threshold_note = self.fixed_threshold()

    # --- the fixed FMR shared by the cross-system views ---
    def fixed_threshold(self) -> tuple[str | None, str]:
        ver = self.thr.frame[self.thr.frame.comparison == "verification"]
        ver = ver[ver.target.notna()]
        if self.fmr is not None:
            hit = ver[np.isclose(ver.target.astype(float), float(self.fmr))]
            if hit.empty:
                raise ValueError(f"report.fmr = {self.fmr} is not one of protocol.fmr_targets")
            return str(hit.threshold.iloc[0]), f"FMR = {hit.target.iloc[0]:g} (report.fmr)"
        n_sys = len(self.systems)
        ok = ver[ver.supported.astype(str) == "True"]
        by_target = ok.groupby("target").size()
        everywhere = sorted(t for t, n in by_target.items() if n >= n_sys)
        if everywhere:
            t = everywhere[0]
            name = str(ok[ok.target == t].threshold.iloc[0])
            return name, f"FMR = {t:g} (the smallest target supported for every system)"
        if len(by_target):
            t = min(by_target.index)
            name = str(ok[ok.target == t].threshold.iloc[0])
            return name, f"FMR = {t:g} (supported for some systems only)"
        return None, "no fixed-FMR threshold is supported for any system"

    def overall_row(self, model, dataset, variant, measure=None, threshold=None):
        rows = self.overall.select(
            model=model,
            dataset=dataset,
            variant=variant,
            attribute="overall",
            group="all",
            measure=measure or self.measure,
            threshold=threshold or self.threshold,
        )
        return None if rows.empty else rows.iloc[0]

    def variants(self) -> list[str]:
        if "variant" not in self.overall.frame:
            return []
        order = list(dict.fromkeys(self.overall.frame.variant.astype(str)))
        return (["none"] if "none" in order else []) + [v for v in order if v != "none"]

    # --- sections ---
    def heatmap_section(self) -> str:
        label = f"{measure_label(self.measure)} at {self.threshold_note.split(' (')[0]}"
        if self.threshold is None or not self.systems:
            return f'<p class="note">No heatmap: {esc(self.threshold_note)}.</p>'
        variants = self.variants()
        values = np.full((len(self.systems), len(variants)), np.nan)
        flagged = np.zeros(values.shape, dtype=bool)
        cells = {}
        for i, (m, d) in enumerate(self.systems):
            for j, v in enumerate(variants):
                r = self.overall_row(m, d, v)
                at = f'data-system="{esc(system_label(m, d))}" data-variant="{esc(v)}"'
                if r is None or missing(r["value"]):
                    cells[i, j] = f'<td class="na" {at}>n/a</td>'
                    continue
                values[i, j] = float(r["value"])
                warn = small_sample(r, self.min_ids)
                flagged[i, j] = bool(warn)
                cells[i, j] = (
                    f"<td {at}>{number(self.cites, self.overall, r, ci=('boot_low', 'boot_high'), warn=warn)}</td>"
                )
        svg = heatmap(
            values,
            [system_label(m, d) for m, d in self.systems],
            variants,
            flagged,
            quantity=measure_label(self.measure),
            title=f"Masked error per system and mask variant: {label}",
        )
        systems = [
            f'<a href="#{card_id(m, d)}">{esc(system_label(m, d))}</a>' for m, d in self.systems
        ]
        if len(variants) > len(self.systems):  # like the figure: the longer list runs down the page
            head = "<th>mask variant</th>" + "".join(f"<th>{s}</th>" for s in systems)
            rows = [
                f"<tr><th>{esc(v)}</th>"
                + "".join(cells[i, j] for i in range(len(systems)))
                + "</tr>"
                for j, v in enumerate(variants)
            ]
        else:
            head = "<th>system · dataset</th>" + "".join(f"<th>{esc(v)}</th>" for v in variants)
            rows = [
                f"<tr><th>{s}</th>" + "".join(cells[i, j] for j in range(len(variants))) + "</tr>"
                for i, s in enumerate(systems)
            ]
        return (
            f'<figure><img class="fig" alt="Heatmap of {esc(label)}, systems by mask variants" '
            f'src="{data_uri(svg)}"><figcaption>{esc(label)}, one global threshold per system fixed on its '
            f"unmasked impostors ({esc(self.threshold_note)}). Colour scale cividis (colour-blind safe); "
            f"* = small sample (fewer than 30 errors or successes, or fewer than {self.min_ids} identities); "
            f"grey n/a = not measured. Values with 95 % identity-bootstrap intervals and their sources:"
            f"</figcaption></figure>"
            f'<table class="data heat"><caption>{esc(label)} (the heatmap\'s numbers)</caption><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def ranking_section(self) -> str:
        if self.threshold is None:
            return ""
        label = f"{measure_label(self.measure)} at {self.threshold_note.split(' (')[0]}"
        out = []
        datasets = sorted({d for _, d in self.systems})
        for d in datasets:
            for v in [v for v in self.variants() if v != "none"]:
                entries = []
                for m, dd in self.systems:
                    if dd != d:
                        continue
                    r = self.overall_row(m, d, v)
                    if r is not None and not missing(r["value"]):
                        entries.append((float(r["value"]), m, r))
                if not entries:
                    continue
                entries.sort(key=lambda e: (e[0], e[1]))
                body = []
                for rank, (_val, m, r) in enumerate(entries, 1):
                    lo, hi = r["boot_low"], r["boot_high"]
                    if missing(lo) or missing(hi):
                        overlap = "no interval: cannot be told apart from any system"
                    else:
                        others = [
                            o
                            for _, o, rr in entries
                            if o != m
                            and not missing(rr["boot_low"])
                            and not missing(rr["boot_high"])
                            and rr["boot_low"] <= hi
                            and lo <= rr["boot_high"]
                        ]
                        overlap = (
                            ("overlaps " + ", ".join(others) + ": ranks not separable")
                            if others
                            else ("no overlap" if len(entries) > 1 else "only system")
                        )
                    warn = small_sample(r, self.min_ids)
                    body.append(
                        f"<tr><td>{rank}</td><th>{esc(m)}</th>"
                        f"<td>{number(self.cites, self.overall, r, ci=('boot_low', 'boot_high'), warn=warn)}</td>"
                        f"<td>{fmt_count(r['n_units'])}</td><td>{esc(overlap)}</td></tr>"
                    )
                out.append(
                    f'<table class="data ranking"><caption>{esc(d)}, {esc(v)}: systems ranked by {esc(label)}'
                    f" (lowest first)</caption><thead><tr><th>rank</th><th>system</th><th>value [95 % CI]</th>"
                    f"<th>identities</th><th>interval overlap</th></tr></thead><tbody>{''.join(body)}"
                    f"</tbody></table>"
                )
        note = (
            '<p class="note">Intervals are identity-bootstrap percentile intervals on the same identities for every '
            "system. Overlapping intervals mean the data do not separate the two systems' ranks; non-overlap is "
            "a rough guide, not a test.</p>"
        )
        return note + "".join(out)

    def _table_of(self, v: dict) -> SourceTable:
        return self.tests if v["table"] == "tests" else self.diff

    def verdict_item(self, v: dict) -> str:
        table = self._table_of(v)
        sid = self.cites.cite(table, v["line"])
        return (
            f'<li class="verdict" data-src="{sid}" data-verdict="{v["verdict"]}" data-table="{v["table"]}">'
            f'<span class="badge {v["verdict"]}">{esc(VERDICT_LABEL[v["verdict"]])}</span> '
            f'<span class="sentence">{esc(sentence(v))}</span> '
            f'<a class="row" href="#{sid}">row</a></li>'
        )

    def verdicts_block(self, model: str, dataset: str) -> str:
        mine = [v for v in self.verdicts if v["model"] == model and v["dataset"] == dataset]
        if not mine:
            return '<p class="note">No predeclared test of this system in the table.</p>'
        src = self._table_of(mine[0])
        c = counts(mine)
        out = [
            f'<p class="verdict-counts">{len(mine)} tests in <code>{esc(src.path)}</code> (rule '
            f"{esc(src.rule)}), Holm-adjusted at alpha = {self.alpha:g}: "
            f'<span class="badge significant">{c["significant"]} significant</span> '
            f'<span class="badge not_significant">{c["not_significant"]} not significant</span> '
            f'<span class="badge too_few_samples">{c["too_few_samples"]} too few samples to tell</span></p>'
        ]
        for role in ("primary", "exploratory"):
            rs = [v for v in mine if v["role"] == role]
            if not rs:
                continue
            tested = [v for v in rs if v["verdict"] != "too_few_samples"]
            few = [v for v in rs if v["verdict"] == "too_few_samples"]
            title = "Primary tests" if role == "primary" else "Exploratory tests"
            if self.tests is None:
                title = "Worst-minus-best group gap tests (differentials.tsv)"
            out.append(f"<h5>{title}</h5>")
            if tested:
                out.append(
                    '<ul class="verdicts">'
                    + "".join(self.verdict_item(v) for v in tested)
                    + "</ul>"
                )
            if few:
                out.append(
                    f'<details class="few"><summary>{len(few)} with too few samples to tell</summary>'
                    '<ul class="verdicts">'
                    + "".join(self.verdict_item(v) for v in few)
                    + "</ul></details>"
                )
        return "".join(out)

    def largest_section(self) -> str:
        out = []
        diffs = [
            v
            for v in self.verdicts
            if v["hypothesis"] == "group_difference" and not missing(v["estimate"])
        ]
        what = (
            "signed difference group_a minus group_b"
            if self.tests is not None
            else "worst minus best group (differentials.tsv)"
        )
        out.append(
            f'<h3>Largest group differences</h3><p class="note">Per error rate (never pooled across '
            f"rates), the {self.top} largest in absolute value: {esc(what)}, with 95 % identity-bootstrap "
            "interval, permutation p-value and Holm-adjusted p-value.</p>"
        )
        out.append(self._largest_lists(diffs))
        if self.tests is not None:
            inter = [
                v
                for v in self.verdicts
                if v["hypothesis"] == "mask_group_interaction" and not missing(v["estimate"])
            ]
            out.append("<h3>Largest mask x group interactions</h3>")
            out.append(self._largest_lists(inter))
        else:
            out.append(self._interactions_from_effects())
        return "".join(out)

    def _largest_lists(self, items: list[dict]) -> str:
        out = []
        measures = list(dict.fromkeys(v["measure"] for v in items))
        for m in measures:
            mine = sorted(
                (v for v in items if v["measure"] == m),
                key=lambda v: (-abs(float(v["estimate"])), v["table"], v["line"]),
            )
            out.append(
                f'<h4>{esc(measure_label(m))}</h4><ol class="largest verdicts">'
                + "".join(
                    self.verdict_item(v)
                    .replace(
                        "<li ", f'<li data-system="{esc(v["model"])} · {esc(v["dataset"])}" ', 1
                    )
                    .replace(
                        '<span class="sentence">',
                        f'<span class="sentence">{esc(v["model"])} on {esc(v["dataset"])}: ',
                        1,
                    )
                    for v in mine[: self.top]
                )
                + "</ol>"
            )
        return "".join(out) or '<p class="note">None could be estimated.</p>'

    def _interactions_from_effects(self) -> str:
        f = self.effects.frame
        if "effect" not in f:
            return '<h3>Largest mask x group interactions</h3><p class="note">No mask effects in the table.</p>'
        f = f[(f.effect == "interaction") & f.value.notna()]
        out = [
            '<h3>Largest mask x group interactions</h3><p class="note">Per error rate, the '
            f"{self.top} largest in absolute value: this variant's change of the max - min group gap minus the mean "
            "change over all masked variants (mask_effects.tsv), with its 95 % paired identity-bootstrap interval. "
            "mask_effects.tsv carries no p-value: these are estimates, not tests.</p>"
        ]
        for m in list(dict.fromkeys(f.measure.astype(str))):
            sub = f[f.measure == m].copy()
            sub["_abs"] = sub.value.abs()
            sub = sub.sort_values(["_abs", "_line"], ascending=[False, True]).head(self.top)
            items = "".join(
                f"<li>{esc(r['model'])} on {esc(r['dataset'])}, {esc(r['variant'])}, {esc(r['attribute'])} gap at "
                f"{esc(threshold_label(r['threshold']))}: "
                f"{number(self.cites, self.effects, r, signed=True, ci=('ci_low', 'ci_high'))}</li>"
                for _, r in sub.iterrows()
            )
            out.append(f'<h4>{esc(measure_label(m))}</h4><ol class="largest">{items}</ol>')
        return "".join(out)

    def summary_section(self) -> str:
        items = []
        for html, rec in self.cards:
            m, d = rec["model"], rec["dataset"]
            start = html.find('<p class="headline">')
            headline = (
                html[start + len('<p class="headline">') : html.find("</p>", start)]
                if start >= 0
                else ""
            )
            c = counts([v for v in self.verdicts if v["model"] == m and v["dataset"] == d])
            items.append(
                f'<li><a href="#{card_id(m, d)}"><b>{esc(system_label(m, d))}</b></a>: {headline} '
                f"Predeclared tests: {c['significant']} significant, {c['not_significant']} not significant, "
                f"{c['too_few_samples']} too few samples to tell. {rec['flagged']} of {rec['numbers']} numbers "
                f"in its card rest on small samples.</li>"
            )
        return f'<ul class="findings">{"".join(items)}</ul>'

    def scope(self) -> str:
        datasets = []
        warn = []
        for d, s in sorted(self.manifests.items()):
            datasets.append(f"{esc(d)} ({s['images']} images, {s['identities']} identities)")
            if s["identities"] < self.min_ids * 10:
                warn.append(f"{esc(d)} has {s['identities']} identities")
        systems = sorted({m for m, _ in self.systems})
        variants = [v for v in self.variants() if v != "none"]
        box = (
            f'<p class="warnbox">Small study: {"; ".join(warn)}. Intervals are wide and most tests have too few '
            "samples; read every number as indicative, never as a property of a system.</p>"
            if warn
            else ""
        )
        return (
            f'<p class="lede">Systems: {esc(", ".join(systems))}. Datasets: {", ".join(datasets)}. '
            f"Mask variants: {esc(', '.join(variants))}, against the unmasked baseline <i>none</i>. "
            f"Masked error shown throughout: {esc(measure_label(self.measure))} at one global threshold per system "
            f"({esc(self.threshold_note)}).</p>{box}"
        )

    def provenance_section(self) -> str:
        p = self.prov
        versions = "".join(
            f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in p["versions"].items()
        )
        systems = []
        for _, rec in self.cards:
            s = rec["system"]
            w = "".join(
                f"<li><code>{esc(f)}</code>: <code>{esc(sha)}</code></li>"
                for f, sha in sorted(s["weights"].items())
            )
            facts = ", ".join(
                f"{esc(k)} {esc(str(v))}"
                for k, v in s["facts"].items()
                if k in ("deepface_version", "engine", "alignment", "device")
            )
            systems.append(
                f"<li><b>{esc(system_label(rec['model'], rec['dataset']))}</b> ({facts}; sidecars: "
                f"{len(s['sidecars'])})<ul>{w or '<li>no weights recorded (a comparison-only system)</li>'}"
                f"</ul></li>"
            )
        manifests = []
        for d, s in sorted(self.manifests.items()):
            lic = "".join(
                f"<li>{esc(lic)}: "
                + "; ".join(f"{esc(src)} ({n} images)" for src, n in srcs)
                + "</li>"
                for lic, srcs in s["licences"].items()
            )
            manifests.append(
                f'<li><b>{esc(d)}</b>: <a class="file" href="{esc(s["path"].removeprefix("results/"))}">'
                f"{esc(s['path'])}</a>, SHA-256 <code>{esc(s['sha256'])}</code>, {s['images']} images, "
                f"{s['identities']} identities. Licences:<ul>{lic}</ul>Figures: "
                + ", ".join(
                    f'<a class="file" href="figures/{f}/{esc(d)}.png">{f.replace("_", " ")}</a>'
                    for f in ("mask_gallery", "face_chips", "heatmap")
                )
                + " (PNG, beside this page)</li>"
            )
        thr_rows = []
        for _, r in self.thr.frame.iterrows():
            sim = (
                number(self.cites, self.thr, r, "similarity")
                if not missing(r["similarity"])
                else "unsupported"
            )
            thr_rows.append(
                f"<tr><td>{esc(r['model'])}</td><td>{esc(r['dataset'])}</td><td>{esc(r['comparison'])}</td>"
                f"<td>{esc(r['threshold'])}</td><td>{sim}</td><td>{fmt_count(r['n_reference'])}</td>"
                f'<td class="text">{esc("" if missing(r["reason"]) else str(r["reason"]))}</td></tr>'
            )
        return (
            f"<p>Config SHA-256 <code>{esc(p['config_hash'])}</code> (the validated config as canonical JSON); "
            f"code SHA-256 <code>{esc(p['code_hash'])}</code> (the workflow files and every maskaudit module its "
            f"scripts run).</p>"
            f"<h3>Systems and weights</h3><ul>{''.join(systems)}</ul>"
            f"<h3>Datasets</h3><ul>{''.join(manifests)}</ul>"
            f'<h3>Thresholds</h3><table class="data"><caption>Global thresholds as similarities (accept iff score '
            f'&ge; threshold), fixed on the unmasked impostors; <a class="file" href="tables/thresholds.tsv">'
            f"results/tables/thresholds.tsv</a></caption><thead><tr><th>model</th><th>dataset</th>"
            f"<th>comparison</th><th>threshold</th><th>similarity</th><th>reference comparisons</th><th>note</th>"
            f"</tr></thead><tbody>{''.join(thr_rows)}</tbody></table>"
            f'<h3>Package versions</h3><table class="data"><tbody>{versions}</tbody></table>'
            f'<details class="more"><summary>The config</summary><pre><code>{esc(p["config_text"])}</code></pre>'
            f"</details>"
        )

    def sources_section(self) -> str:
        data = self.cites.to_json()
        by_path = {}
        for sid, r in data["rows"].items():
            by_path.setdefault(r["path"], []).append((r["line"], sid, r))
        out = [
            '<p class="note">Every number above links here: the literal row of the file it was read from '
            "(columns separated by |), its line number and the rule that wrote the file.</p>"
        ]
        for path in sorted(by_path):
            rows = sorted(by_path[path])
            rule = rows[0][2]["rule"]
            head = esc(data["headers"][path].replace("\t", " | "))
            body = "".join(
                f'<tr id="{sid}" data-line="{line}"><td>{line}</td>'
                f"<td><code>{esc(r['row'].replace(chr(9), ' | '))}</code></td></tr>"
                for line, sid, r in rows
            )
            out.append(
                f'<table class="data src" data-path="{esc(path)}"><caption>'
                f'<a class="file" href="{esc(path.removeprefix("results/"))}">'
                f"{esc(path)}</a> (rule {esc(rule)})</caption><thead><tr><th>line</th><th><code>{head}</code>"
                f"</th></tr></thead><tbody>{body}</tbody></table>"
            )
        return "".join(out)

    def html(self) -> str:
        cards = []
        for html, rec in self.cards:
            slot = VERDICTS_SLOT.format(model=rec["model"], dataset=rec["dataset"])
            cards.append(html.replace(slot, self.verdicts_block(rec["model"], rec["dataset"])))
        sections = [
            ("scope", "What was audited", self.scope()),
            ("findings", "Key findings", self.summary_section()),
            ("heatmap", "Masked error across systems", self.heatmap_section()),
            ("ranking", "Systems ranked, with intervals", self.ranking_section()),
            (
                "differences",
                "Largest group differences and mask x group interactions",
                self.largest_section(),
            ),
            ("cards", "System cards", "".join(cards)),
            ("provenance", "Provenance", self.provenance_section()),
        ]
        body = "".join(
            f'<section id="{sid}"><h2>{esc(title)}</h2>{content}</section>'
            for sid, title, content in sections
        )
        # wide tables scroll, the page does not
        body = _TABLE.sub(r'<div class="scroll">\g<0></div>', body)
        sources = f'<section id="sources"><h2>Sources of every number</h2>{self.sources_section()}</section>'
        nav = "".join(f'<li><a href="#{sid}">{esc(title)}</a></li>' for sid, title, _ in sections)
        nav += '<li><a href="#sources">Sources of every number</a></li>'
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>maskaudit: audit of face recognition on masked faces</title>"
            f"<style>{CSS}</style></head><body><header><h1>Face recognition on masked faces: audit report</h1>"
            '<p class="lede">Generated by maskaudit from the workflow\'s tables. Every number links to the table '
            'row it was read from (see <a href="#sources">Sources</a>); &#9888; marks a small sample.</p>'
            f"</header><nav><ol>{nav}</ol></nav><main>{body}{sources}</main></body></html>\n"
        )


def build_page(
    *,
    cards: list[tuple[str, str]],
    overall: str,
    differentials: str,
    mask_effects: str,
    thresholds: str,
    tests: tuple[str, str] | None,
    manifests: dict,
    provenance: dict,
    fmr,
    measure: str,
    min_identities: int,
    top: int,
    alpha: float,
) -> str:
    """The page's HTML from the files the workflow names (``cards``: (html, json) pairs; ``tests``:
    ``(path, rule)`` of the predeclared tests table, or ``None`` to read verdicts from differentials)."""
    from maskaudit.report.provenance import manifest_summary

    loaded = [
        (Path(h).read_text(encoding="utf-8"), json.loads(Path(j).read_text())) for h, j in cards
    ]
    return Page(
        cards=loaded,
        overall=SourceTable.read(overall, "collect_table"),
        differentials=SourceTable.read(differentials, "collect_table"),
        mask_effects=SourceTable.read(mask_effects, "collect_table"),
        thresholds=SourceTable.read(thresholds, "collect_table"),
        tests=SourceTable.read(tests[0], tests[1]) if tests else None,
        manifests={d: manifest_summary(p) for d, p in manifests.items()},
        provenance=provenance,
        fmr=fmr,
        measure=measure,
        min_identities=min_identities,
        top=top,
        alpha=alpha,
    ).html()
