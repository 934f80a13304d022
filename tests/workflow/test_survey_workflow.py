"""The survey in the demo audit (the shared `audit` fixture): trials from the real demo dataset, the
system's answers from its caches, the committed synthetic responses analysed into tables and figures."""

from __future__ import annotations

import json
import re

import pandas as pd

from maskaudit.survey.app import create_app
from maskaudit.survey.bundle import load_bundle
from maskaudit.survey.store import open_store
from maskaudit.survey.trials import check_trial


def read(path):
    return pd.read_csv(
        path, sep="\t", keep_default_na=False, na_values=["NaN"], dtype={"choice": str}
    )


def test_demo_trials_keep_the_protocol_and_hide_the_answers(audit):
    survey = audit / "results/survey/demo"
    key = read(survey / "key.tsv")
    assert key.apply(check_trial, axis=1).map(len).sum() == 0
    assert set(key.kind) == {"closed", "open", "attention"}
    assert set(key.variant) == {"surgical-blue", "n95-skin_dark", "cloth-white", "none"}
    design = read(survey / "design.tsv")
    assert (design.built <= design.requested).all() and design.built.sum() == len(key)
    doc = load_bundle(survey / "bundle")
    text = (survey / "bundle/trials.json").read_text()
    assert [t["id"] for t in doc["trials"]] == list(key.trial_id) and doc[
        "build"
    ] == key.build.iloc[0]
    for word in (
        set(key.probe_id)
        | set(key.probe_identity)
        | {"answer", "closed", "open", "attention", "surgical"}
    ):
        assert word not in text, word
    assert len(list((survey / "bundle/images").iterdir())) == len(key) * 5


def test_the_system_answers_the_same_trials(audit):
    key = read(audit / "results/survey/demo/key.tsv")
    dlib = read(audit / "results/survey/demo/machines/dlib.tsv")
    scored = key.trial_id[key.kind != "attention"]
    assert len(dlib) == len(scored) and set(dlib.trial_id) == set(scored)
    assert dlib.choice.isin(["-1", "0", "1", "2", "3"]).all()  # dlib acquires every demo probe
    thresholds = json.loads((audit / "results/thresholds/dlib/demo.json").read_text())
    default = [t for t in thresholds["identification"] if t["name"] == "default"][0]["similarity"]
    assert (dlib.threshold == round(default, 6)).all()
    best = dlib.scores.str.split(";").map(lambda s: max(float(x) for x in s))
    assert ((best >= dlib.threshold) == (dlib.choice != "-1")).all()


def test_committed_synthetic_responses_match_the_demo_build_and_are_analysed(audit):
    quality = read(audit / "results/tables/survey_quality.tsv").set_index("item")["count"]
    # the committed file fits these trials
    assert quality["unknown_trial"] == 0 and quality["other_build"] == 0
    assert quality["synthetic_responses"] == quality["responses"] > 0
    versus = read(audit / "results/tables/survey_versus.tsv")
    assert set(versus.system) == {"dlib", "dlib+contrastive"} and {"all", "surgical-blue"} <= set(
        versus.variant
    )
    # The contrast comes from maskaudit.stats.contrasts.mask_effect: a row on fewer identities than the
    # demo's stats.min_identities (10) keeps its difference but has no interval or p-value, with a note
    # (the demo survey has 9 identities, so that is every row); larger rows are tested.
    assert versus.difference.notna().all()
    few = versus.n_units < 10
    assert versus[few].p_signflip.isna().all() and versus[few].difference_low.isna().all()
    assert versus[few].note.str.contains("fewer than 10 identities").all()
    assert versus[~few].p_signflip.between(0, 1).all()
    assert (versus[~few].difference_low <= versus[~few].difference_high).all()
    acc = read(audit / "results/tables/survey_accuracy.tsv")
    assert {"humans", "dlib", "dlib+contrastive"} == set(acc.rater) and {
        "none",
        "10s",
        "all",
    } <= set(acc.condition)
    for figure in ("accuracy", "versus", "agreement", "gaps"):
        assert (audit / f"results/figures/survey/{figure}.png").stat().st_size > 10_000


def test_the_demo_bundle_is_served(audit, tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/s.sqlite")
    client = create_app(audit / "results/survey/demo/bundle", store, secret_key="t").test_client()
    token = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/").data).group(1).decode()
    client.post("/consent", data={"csrf_token": token, "consent": "yes", "adult": "yes"})
    page = client.get("/trial").data
    images = re.findall(rb'src="(/image/[^"]+)"', page)
    assert len(images) == 5
    # the demo's JPEG crops
    assert all(client.get(i.decode()).data[:2] == b"\xff\xd8" for i in images)
    store.close()
