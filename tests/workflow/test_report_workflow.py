"""The demo's findings page (results/audit.html, built by the shared `audit` run): it agrees with the
tables exactly, opens in a real browser (headless Chromium from Debian, driven by Selenium) with every
card, figure and link resolving and no console error, stays small, and rebuilds incrementally."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup
from workflow_support import planned_jobs, read, snakemake, write_config

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
COLLECTED = {
    "overall": "overall",
    "gender": "by_gender",
    "race": "by_race",
    "gender_race": "by_gender_race",
}
STANDALONE_SIGNIFICANT = re.compile(r"(?<!not )\bsignificant\b")


@pytest.fixture(scope="module")
def page(audit):
    html = (audit / "results/audit.html").read_text(encoding="utf-8")
    return html, BeautifulSoup(html, "html.parser")


def source_row(audit, soup, sid) -> tuple[str, str, dict]:
    """(path, literal line, row as a dict) behind an appendix id; the appendix shows that exact line."""
    tr = soup.find(id=sid)
    assert tr is not None, sid
    path, n = tr.find_parent("table")["data-path"], int(tr["data-line"])
    lines = (audit / path).read_text(encoding="utf-8").split("\n")
    assert tr.find("code").get_text() == lines[n - 1].replace("\t", " | "), (path, n)
    return path, lines[n - 1], dict(zip(lines[0].split("\t"), lines[n - 1].split("\t")))


def test_findings_agree_with_the_tables_exactly(audit, page):
    html, soup = page
    assert len(html.encode()) <= 3 * 2**20
    assert [(c["data-model"], c["data-dataset"]) for c in soup.select("section.card")] == [
        ("dlib", "demo"),
        ("dlib+contrastive", "demo"),
    ]  # a head is a system
    tables = {}

    def table_lines(name):
        if name not in tables:
            tables[name] = set((audit / f"results/tables/{name}.tsv").read_text().split("\n")[1:])
        return tables[name]

    checked = 0
    for a in soup.select("a.num"):
        path, line, row = source_row(audit, soup, a["href"][1:])
        shown, value = a.get_text(), row[a["data-col"]]
        assert (shown == "n/a") == (value == "NaN"), (path, line)
        if shown != "n/a":
            assert abs(float(shown) - float(value)) <= 5e-4, (shown, path, line)
        # a card's number comes from its system's metrics file: the same row is in the collected table
        if path.startswith("results/metrics/"):
            name = (
                "mask_effects" if path.endswith("mask_effects.tsv") else COLLECTED[row["attribute"]]
            )
            assert line in table_lines(name), (path, line)
        checked += 1
    assert checked > 50
    for span in soup.select("span.ci[data-src]"):
        _, _, row = source_row(audit, soup, span["data-src"])
        lo, hi = (float(x) for x in span.get_text().strip("[]").split(","))
        c_lo, c_hi = span["data-ci"].split()
        assert abs(lo - float(row[c_lo])) <= 5e-4 and abs(hi - float(row[c_hi])) <= 5e-4

    # the heatmap's numbers: each system's overall report.measure (reid_fnmr_system) at the smallest FMR
    # target that every system supports (report.fmr: null)
    thr = read(audit, "thresholds")
    ok = thr[
        (thr.comparison == "verification")
        & thr.target.notna()
        & (thr.supported.astype(str) == "True")
    ]
    common = set.intersection(*(set(g.threshold) for _, g in ok.groupby("model")))
    fixed = ok[ok.threshold.isin(common)].sort_values("target").threshold.iloc[0]
    overall = read(audit, "overall")
    for model in ("dlib", "dlib+contrastive"):
        sel = overall[
            (overall.model == model)
            & (overall.measure == "reid_fnmr_system")
            & (overall.threshold == fixed)
        ].set_index("variant")
        cells = {
            td["data-variant"]: td.select_one("a.num").get_text()
            for td in soup.select(f'#heatmap td[data-system="{model} · demo"]')
        }
        assert list(cells)[0] == "none" and len(cells) == 4
        assert cells == {v: f"{sel.loc[v, 'value']:.3f}" for v in cells}

    # every test of the system is in its card, with the verdict its table states: tests.tsv's `verdict`
    # once REPORT_TESTS_TABLE is switched on, until then differentials.tsv's `significant` and `evidence`
    items = soup.select("section.card li.verdict")
    source = {li["data-table"] for li in items}
    assert len(source) == 1
    assert len(items) == len(read(audit, source.pop()))
    for li in items:
        path, _, row = source_row(audit, soup, li["data-src"])
        expected = (
            row["verdict"]
            if path.endswith("tests.tsv")
            else "significant"
            if row["significant"] == "True"
            else "too_few_samples"
            if row["evidence"] == "untested" or row["p_holm"] == "NaN"
            else "not_significant"
        )
        assert li["data-verdict"] == expected
        text = li.select_one(".sentence").get_text()
        assert bool(STANDALONE_SIGNIFICANT.search(text)) == (expected == "significant"), text
    # provenance: weights from the sidecars, the manifest's licences, the thresholds
    sidecar = (audit / "results/embeddings/dlib/demo/none.json").read_text()
    sha = re.search(r'"([0-9a-f]{64})"', sidecar).group(1)
    prov = soup.select_one("#provenance").get_text()
    assert sha in prov and "public domain" in prov and "fmr_0.2" in prov


def test_page_in_headless_chromium(audit, page, tmp_path):
    assert CHROMIUM and CHROMEDRIVER, "install Debian's chromium and chromium-driver (.ci/run does)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.print_page_options import PrintOptions

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1000,1400",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get((audit / "results/audit.html").as_uri())
        state = driver.execute_script("""
            const imgs = [...document.images];
            const links = [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]);
            const external = [...document.querySelectorAll('[src],[href]')]
                .map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => /^(https?:)?\\/\\//.test(u));
            return {cards: document.querySelectorAll('section.card').length,
                    figures: imgs.length, broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).length,
                    links: links, external: external,
                    missing: links.filter(l => l[0].startsWith('#') && !document.getElementById(l[0].slice(1))),
                    loaded: performance.getEntriesByType('resource').map(r => r.name),
                    wide: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                    height: document.body.scrollHeight};""")
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert errors == []
        assert state["cards"] == 2 and state["figures"] >= 2 and state["broken"] == 0
        # nothing fetched: the page is standalone
        assert state["external"] == [] and state["loaded"] == []
        assert state["missing"] == [] and state["wide"] <= 0
        files = {
            unquote(urlparse(href).path) for raw, href in state["links"] if not raw.startswith("#")
        }
        assert files and all(Path(f).is_file() for f in files), [
            f for f in files if not Path(f).is_file()
        ]
        assert {Path(f).name for f in files} >= {
            "dlib.demo.png",
            "demo.png",
            "overall.tsv",
            "manifest.tsv",
        }
        driver.set_window_size(1000, min(state["height"], 12000))
        shot = tmp_path / "audit.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
        pdf = driver.print_page(PrintOptions())  # the print stylesheet: A4 pages
        assert pdf.startswith("JVBERi")  # base64 of %PDF
    finally:
        driver.quit()


def test_adding_a_system_rebuilds_only_its_card_and_the_cross_system_views(audit):
    write_config(audit, lambda cfg: cfg.update(models=["dlib", "facenet_cv"]))
    try:
        jobs = planned_jobs(audit)
    finally:
        write_config(audit)
    assert jobs["render_system_card"] == 1 and jobs["render_audit_report"] == 1
    out = snakemake(audit, "--dry-run", "--force", "results/report/cards/dlib.demo.html").stdout
    assert re.search(r"^render_system_card\s+1$", out, re.M) and re.search(
        r"^total\s+1$", out, re.M
    )


def test_report_fmr_must_be_a_protocol_target(audit):
    write_config(audit, lambda cfg: cfg.update(report={"fmr": 0.05}))
    try:
        proc = snakemake(audit, "--dry-run", check=False)
    finally:
        write_config(audit)
    assert proc.returncode != 0 and "config key 'report.fmr'" in proc.stdout + proc.stderr
