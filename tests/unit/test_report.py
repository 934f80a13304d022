"""The findings page (maskaudit/report) on synthetic tables: verdicts worded from the table, every
number equal to its source row, intervals and overlaps, small-sample flags, determinism."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from maskaudit.protocol.stage import thresholds_rows
from maskaudit.report.card import build_card, fixed_fmr_threshold
from maskaudit.report.page import build_page
from maskaudit.report.sources import small_sample
from maskaudit.report.verdicts import differential_verdict, from_differentials, from_tests, sentence
from maskaudit.tsv import read_tsv, write_tsv

VARIANTS = {"none": ("none", "none"), "surgical-blue": ("surgical", "blue")}
GROUPS = [("overall", "all", 40), ("gender", "female", 20), ("gender", "male", 20)]
# model -> (unmasked error, added by the mask, half-width of its interval)
SYSTEMS = {"alpha": (0.02, 0.05, 0.02), "beta": (0.05, 0.30, 0.05), "gamma": (0.04, 0.33, 0.05)}
STANDALONE_SIGNIFICANT = re.compile(r"(?<!not )\bsignificant\b")


def thresholds(model):
    ver = [
        dict(
            name="default",
            target=float("nan"),
            similarity=0.5,
            similarity_raw=0.5,
            n=5000,
            n_required=0,
            realised=0.0,
            supported=True,
            reason="system default",
        ),
        dict(
            name="fmr_0.01",
            target=0.01,
            similarity=0.6,
            similarity_raw=0.4,
            n=5000,
            n_required=1000,
            realised=0.01,
            supported=True,
            reason="",
        ),
        dict(
            name="fmr_0.001",
            target=0.001,
            similarity=0.7,
            similarity_raw=0.3,
            n=5000,
            n_required=10000,
            realised=float("nan"),
            supported=False,
            reason="5000 comparisons < 10000 (= 10/0.001) needed",
        ),
    ]
    ident = [
        dict(
            name="default",
            target=float("nan"),
            similarity=0.5,
            similarity_raw=0.5,
            n=40,
            n_required=0,
            realised=0.0,
            supported=True,
            reason="system default",
        )
    ]
    return {
        "model": model,
        "dataset": "toy",
        "system": model,
        "raw_direction": "lower_is_same",
        "verification": ver,
        "identification": ident,
    }


def rate_rows(model, system_measures):
    base, mask, half = SYSTEMS[model]
    measures = [
        ("reidentification", "reid_fnmr", ("fmr_0.01", "default")),
        ("verification", "fnmr", ("fmr_0.01", "default")),
        ("verification", "fmr", ("fmr_0.01", "default")),
        ("identification", "rank1", ("-",)),
        ("identification", "fnir", ("default",)),
        *[
            ("acquisition", m, ("-",))
            for m in ("fta", "fta_dataset", "fta_mask", "fta_model", "fta_vendor")
        ],
    ]
    if system_measures:
        measures += [
            ("reidentification", "reid_fnmr_system", ("fmr_0.01", "default")),
            ("verification", "fnmr_system", ("fmr_0.01", "default")),
            ("identification", "rank1_system", ("-",)),
            ("identification", "fnir_system", ("default",)),
            ("acquisition", "fta_pipeline", ("-",)),
        ]
    rows = []
    for variant, (kind, colour) in VARIANTS.items():
        for attribute, group, n in GROUPS:
            for comparison, measure, thrs in measures:
                for k, t in enumerate(thrs):
                    value = (
                        base
                        + (mask if variant != "none" else 0)
                        + 0.01 * k
                        + (0.02 if group == "male" else 0)
                    )
                    if measure == "rank1":
                        value = 1 - value
                    trials = 400 if group == "all" else 200
                    errors = (
                        round(value * trials) if measure != "rank1" else round((1 - value) * trials)
                    )
                    value = errors / trials if measure != "rank1" else 1 - errors / trials
                    rows.append(
                        dict(
                            model=model,
                            dataset="toy",
                            variant=variant,
                            mask_kind=kind,
                            mask_colour=colour,
                            attribute=attribute,
                            group=group,
                            n_identities=n,
                            n_images=2 * n,
                            comparison=comparison,
                            measure=measure,
                            threshold=t,
                            threshold_similarity=0.5,
                            value=value,
                            errors=float(errors),
                            trials=float(trials),
                            n_units=float(n),
                            under_30_errors=bool(min(errors, trials - errors) < 30),
                            cp_low=max(0, value - half),
                            cp_high=min(1, value + half),
                            boot_low=max(0, value - half),
                            boot_high=min(1, value + half),
                        )
                    )
    return pd.DataFrame(rows)


def effect_rows(model, rates):
    rows = []
    masked = rates[rates.variant != "none"]
    for _, r in masked.iterrows():
        u = rates[
            (rates.variant == "none")
            & (rates.attribute == r.attribute)
            & (rates.group == r.group)
            & (rates.measure == r.measure)
            & (rates.threshold == r.threshold)
        ].iloc[0]
        d = r.value - u.value
        rows.append(
            dict(
                model=model,
                dataset="toy",
                variant=r.variant,
                mask_kind=r.mask_kind,
                mask_colour=r.mask_colour,
                effect="masked_minus_unmasked",
                attribute=r.attribute,
                group=r.group,
                comparison=r.comparison,
                measure=r.measure,
                threshold=r.threshold,
                masked=r.value,
                unmasked=u.value,
                value=d,
                ci_low=d - 0.03,
                ci_high=d + 0.03,
            )
        )
    for effect, value in (("gap_change", 0.0), ("interaction", SYSTEMS[model][1] / 10)):
        for measure in ("reid_fnmr", "fnmr", "fmr"):
            for t in ("fmr_0.01", "default"):
                rows.append(
                    dict(
                        model=model,
                        dataset="toy",
                        variant="surgical-blue",
                        mask_kind="surgical",
                        mask_colour="blue",
                        effect=effect,
                        attribute="gender",
                        group="max-min gap",
                        comparison="verification",
                        measure=measure,
                        threshold=t,
                        masked=0.02,
                        unmasked=0.02,
                        value=value,
                        ci_low=value - 0.05,
                        ci_high=value + 0.05,
                    )
                )
    return pd.DataFrame(rows)


def diff_rows(model):
    """One differentials row per verdict path: significant, untested, permutation-only, neither."""
    base = dict(
        model=model,
        dataset="toy",
        variant="surgical-blue",
        mask_kind="surgical",
        mask_colour="blue",
        attribute="gender",
        comparison="reidentification",
        threshold="fmr_0.01",
        threshold_similarity=0.6,
        n_groups=2,
        groups="female;male",
        worst_group="male",
        best_group="female",
        worst=0.1,
        best=0.05,
        ratio=2.0,
        ratio_low=1.0,
        ratio_high=3.0,
    )
    return pd.DataFrame(
        [
            {
                **base,
                "measure": "reid_fnmr",
                "difference": 0.05,
                "difference_low": 0.01,
                "difference_high": 0.09,
                "p_permutation": 0.001,
                "p_holm": 0.003,
                "significant": True,
                "evidence": "both",
            },
            {
                **base,
                "measure": "fnmr",
                "n_groups": 1,
                "groups": "male",
                "worst_group": "",
                "best_group": "",
                "difference": float("nan"),
                "difference_low": float("nan"),
                "difference_high": float("nan"),
                "p_permutation": float("nan"),
                "p_holm": float("nan"),
                "significant": False,
                "evidence": "untested",
            },
            {
                **base,
                "measure": "fmr",
                "difference": 0.02,
                "difference_low": -0.01,
                "difference_high": 0.05,
                "p_permutation": 0.01,
                "p_holm": 0.03,
                "significant": False,
                "evidence": "permutation_only",
            },
            {
                **base,
                "measure": "fnir",
                "difference": 0.01,
                "difference_low": -0.02,
                "difference_high": 0.04,
                "p_permutation": 0.4,
                "p_holm": 0.8,
                "significant": False,
                "evidence": "neither",
            },
        ]
    )


def predeclared_rows(model):
    """Every hypothesis with every verdict; the estimates differ so that 'largest' lists have an order."""
    rows = []
    for i, hyp in enumerate(
        ("mask_effect", "mask_group_interaction", "group_difference", "colour_group_contrast")
    ):
        for j, verdict in enumerate(("significant", "not_significant", "too_few_samples")):
            few = verdict == "too_few_samples"
            est = float("nan") if few else (0.01 * (i + 1) + 0.1 * j) * (-1) ** j
            rows.append(
                dict(
                    model=model,
                    dataset="toy",
                    family=f"{hyp}:gender",
                    role="primary" if j < 2 else "exploratory",
                    hypothesis=hyp,
                    variant="surgical-blue",
                    attribute="gender",
                    group_a="female",
                    group_b="" if hyp == "mask_effect" else "male",
                    comparison="reidentification",
                    measure="reid_fnmr",
                    threshold="fmr_0.01",
                    estimate=est,
                    ci_low=est - 0.02,
                    ci_high=est + 0.02,
                    p_value=float("nan") if few else 0.001 * (j + 1) * 40**j,
                    p_holm=float("nan") if few else 0.002 * (j + 1) * 40**j,
                    min_attainable_p=0.2 if few else 0.001,
                    verdict=verdict,
                    reason="3 identities in group_b" if few else "",
                    n_identities_a=20,
                    n_identities_b=3 if few else 20,
                    errors_a=5,
                    errors_b=7,
                    trials_a=200,
                    trials_b=200,
                )
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Three systems on a toy dataset: per-system files, collected tables and a tests table on disk."""
    root = tmp_path_factory.mktemp("toy")
    res = root / "results"
    for d in ("metrics", "thresholds", "embeddings", "tables", "datasets/toy", "report/cards"):
        (res / d).mkdir(parents=True, exist_ok=True)
    overall, effects, diffs, tests, thr = [], [], [], [], []
    for model in SYSTEMS:
        (res / "metrics" / model / "toy").mkdir(parents=True)
        rates = rate_rows(model, system_measures=True)
        eff = effect_rows(model, rates)
        write_tsv(rates, res / f"metrics/{model}/toy/rates.tsv")
        write_tsv(eff, res / f"metrics/{model}/toy/mask_effects.tsv")
        th = thresholds(model)
        (res / f"thresholds/{model}").mkdir()
        (res / f"thresholds/{model}/toy.json").write_text(json.dumps(th))
        (res / f"embeddings/{model}/toy").mkdir(parents=True)
        for v in VARIANTS:
            (res / f"embeddings/{model}/toy/{v}.json").write_text(
                json.dumps(
                    {
                        "model": model,
                        "engine": "pytorch",
                        "deepface_version": "0.0.103",
                        "alignment": "shared_landmarks",
                        "weights": {f"{model}.pt": "ab" * 32},
                        "variant": v,
                    }
                )
            )
        overall.append(rates[rates.attribute == "overall"])
        effects.append(eff)
        diffs.append(diff_rows(model))
        tests.append(predeclared_rows(model))
        thr += thresholds_rows(th)
    for name, frames in (
        ("overall", overall),
        ("mask_effects", effects),
        ("differentials", diffs),
        ("tests", tests),
    ):
        write_tsv(pd.concat(frames, ignore_index=True), res / f"tables/{name}.tsv")
    write_tsv(pd.DataFrame(thr), res / "tables/thresholds.tsv")
    write_tsv(
        pd.DataFrame(
            {
                "image_id": ["a", "b", "c"],
                "path": ["x", "y", "z"],
                "identity": ["p", "p", "q"],
                "source": ["s1", "s1", "s2"],
                "licence": ["CC BY 4.0", "CC BY 4.0", "public domain"],
            }
        ),
        res / "datasets/toy/manifest.tsv",
    )
    return root


def build(root, monkeypatch, *, tests=True, fmr=None):
    monkeypatch.chdir(root)
    cards = []
    for model in SYSTEMS:
        html, rec = build_card(
            model,
            "toy",
            rates=f"results/metrics/{model}/toy/rates.tsv",
            mask_effects=f"results/metrics/{model}/toy/mask_effects.tsv",
            thresholds=f"results/thresholds/{model}/toy.json",
            sidecars=[f"results/embeddings/{model}/toy/{v}.json" for v in VARIANTS],
            fmr=fmr,
            measure="reid_fnmr",
            min_identities=25,
            system_measures=True,
        )
        h, j = (
            root / f"results/report/cards/{model}.toy.html",
            root / f"results/report/cards/{model}.toy.json",
        )
        h.write_text(html)
        j.write_text(json.dumps(rec))
        cards.append(
            (f"results/report/cards/{model}.toy.html", f"results/report/cards/{model}.toy.json")
        )
    return build_page(
        cards=cards,
        overall="results/tables/overall.tsv",
        differentials="results/tables/differentials.tsv",
        mask_effects="results/tables/mask_effects.tsv",
        thresholds="results/tables/thresholds.tsv",
        tests=("results/tables/tests.tsv", "test_predeclared") if tests else None,
        manifests={"toy": "results/datasets/toy/manifest.tsv"},
        provenance={
            "config_hash": "c" * 64,
            "code_hash": "d" * 64,
            "versions": {"numpy": "2"},
            "config_text": "seed: 1\n",
        },
        fmr=fmr,
        measure="reid_fnmr",
        min_identities=25,
        top=3,
        alpha=0.05,
    )


def source_row(root, soup, sid):
    tr = soup.find(id=sid)
    assert tr is not None, f"no appendix row {sid}"
    path, line = tr.find_parent("table")["data-path"], int(tr["data-line"])
    lines = (root / path).read_text().split("\n")
    # the appendix shows the literal row
    assert tr.find("code").get_text() == lines[line - 1].replace("\t", " | ")
    return dict(zip(lines[0].split("\t"), lines[line - 1].split("\t")))


def test_verdict_sentences_say_significant_only_where_the_table_does(toy):
    frame = read_tsv(toy / "results/tables/tests.tsv")
    frame["_line"] = range(2, len(frame) + 2)
    for v in from_tests(frame):
        text = sentence(v)
        assert bool(STANDALONE_SIGNIFICANT.search(text)) == (v["verdict"] == "significant"), text
        assert ("not significant" in text) == (v["verdict"] == "not_significant"), text
        assert ("too few samples to tell" in text) == (v["verdict"] == "too_few_samples"), text
        if v["verdict"] == "too_few_samples":
            # the table's reason and attainable p
            assert "3 identities in group_b" in text and "0.2" in text
    frame.loc[0, "verdict"] = "borderline"
    with pytest.raises(ValueError, match="borderline"):
        from_tests(frame)


def test_differential_verdicts_read_the_tables_columns():
    frame = diff_rows("alpha").assign(_line=range(2, 6))
    assert [differential_verdict(r) for _, r in frame.iterrows()] == [
        "significant",
        "too_few_samples",
        "not_significant",
        "not_significant",
    ]
    v = from_differentials(frame)
    assert "only the permutation test" in sentence(v[2]) and "not significant" in sentence(v[2])
    assert "1 gender group with data" in sentence(v[1])
    assert STANDALONE_SIGNIFICANT.search(sentence(v[0])) and not STANDALONE_SIGNIFICANT.search(
        sentence(v[3])
    )


def test_fixed_fmr_threshold():
    th = thresholds("alpha")
    assert fixed_fmr_threshold(th, None)[0] == "fmr_0.01"  # the smallest supported target
    assert fixed_fmr_threshold(th, 0.01)[0] == "fmr_0.01"
    name, note = fixed_fmr_threshold(th, 0.001)
    assert name is None and "unsupported" in note and "10000" in note
    with pytest.raises(ValueError, match="not one of protocol.fmr_targets"):
        fixed_fmr_threshold(th, 0.05)


def test_small_sample_flags():
    row = {"under_30_errors": True, "errors": 3.0, "trials": 15.0, "n_units": 4.0}
    why = small_sample(row, 10)
    assert len(why) == 2 and "rule of 30" in why[0] and "4 identities" in why[1]
    assert (
        small_sample(
            {"under_30_errors": False, "errors": 40.0, "trials": 400.0, "n_units": 40.0}, 10
        )
        == []
    )


def test_page_agrees_with_its_tables(toy, monkeypatch):
    page = build(toy, monkeypatch)
    soup = BeautifulSoup(page, "html.parser")
    cards = soup.select("section.card")
    assert [c["data-model"] for c in cards] == list(SYSTEMS)

    # every cited number and interval equals its source row
    nums = soup.select("a.num")
    assert len(nums) > 100
    for a in nums:
        row = source_row(toy, soup, a["href"][1:])
        shown = a.get_text()
        value = row[a["data-col"]]
        assert (shown == "n/a") == (value == "NaN") and (
            shown == "n/a" or abs(float(shown) - float(value)) <= 5e-4
        )
    for span in soup.select("span.ci"):
        if "data-src" not in span.attrs:
            continue
        row = source_row(toy, soup, span["data-src"])
        lo, hi = (float(x) for x in span.get_text().strip("[]").split(","))
        lo_col, hi_col = span["data-ci"].split()
        assert abs(lo - float(row[lo_col])) <= 5e-4 and abs(hi - float(row[hi_col])) <= 5e-4

    # every verdict of every system, in its card, as the tests table states it
    tests = read_tsv(toy / "results/tables/tests.tsv")
    for card in cards:
        items = card.select("li.verdict")
        assert len(items) == (tests.model == card["data-model"]).sum()
        for li in items:
            row = source_row(toy, soup, li["data-src"])
            assert li["data-verdict"] == row["verdict"] and row["model"] == card["data-model"]
            text = li.select_one(".sentence").get_text()
            assert bool(STANDALONE_SIGNIFICANT.search(text)) == (row["verdict"] == "significant")
            assert li.select_one(".badge")["class"][1] == row["verdict"]
    # ranking: alpha's interval is apart from the others; beta's and gamma's overlap
    ranking = soup.select("table.ranking tbody tr")
    notes = {tr.th.get_text(): tr.find_all("td")[-1].get_text() for tr in ranking}
    assert [tr.th.get_text() for tr in ranking] == ["alpha", "beta", "gamma"]
    assert notes == {
        "alpha": "no overlap",
        "beta": "overlaps gamma: ranks not separable",
        "gamma": "overlaps beta: ranks not separable",
    }
    # system-level measures and fta_pipeline appear when switched on
    assert "System re-identification FNMR" in page and ">pipeline<" in page
    # every in-page link has its target; nothing is loaded from elsewhere
    ids = {t["id"] for t in soup.find_all(id=True)}
    for a in soup.find_all("a", href=True):
        if a["href"].startswith("#"):
            assert a["href"][1:] in ids, a["href"]
        else:
            assert not re.match(r"[a-z]+:", a["href"]), a["href"]
    assert all(
        img["src"].startswith("data:image/svg+xml;charset=utf-8,") for img in soup.find_all("img")
    )
    assert build(toy, monkeypatch) == page  # same inputs, same bytes


def test_without_tests_table_verdicts_come_from_differentials(toy, monkeypatch):
    soup = BeautifulSoup(build(toy, monkeypatch, tests=False, fmr=0.01), "html.parser")
    for card in soup.select("section.card"):
        items = card.select("li.verdict")
        assert [li["data-verdict"] for li in items] == [
            "significant",
            "not_significant",
            "not_significant",
            "too_few_samples",
        ]
        assert all(li["data-table"] == "differentials" for li in items)
    assert "mask_effects.tsv carries no p-value" in soup.get_text()


def test_card_of_an_already_masked_dataset(toy, tmp_path, monkeypatch):
    """Only the baseline variant and no mask effects (e.g. MLFW): the card says so instead of failing."""
    rates = read_tsv(toy / "results/metrics/alpha/toy/rates.tsv")
    write_tsv(rates[rates.variant == "none"], tmp_path / "rates.tsv")
    write_tsv(pd.DataFrame(), tmp_path / "mask_effects.tsv")
    (tmp_path / "thr.json").write_text(json.dumps(thresholds("alpha")))
    monkeypatch.chdir(tmp_path)
    html, rec = build_card(
        "alpha",
        "toy",
        rates="rates.tsv",
        mask_effects="mask_effects.tsv",
        thresholds="thr.json",
        sidecars=[],
        fmr=None,
        measure="reid_fnmr",
        min_identities=25,
    )
    assert "for both the baseline and a mask" in html and rec["numbers"] > 10
