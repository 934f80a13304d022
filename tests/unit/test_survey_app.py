"""The survey web app on a public host: CSRF, validation, one answer per trial, time-outs, rate limits,
image access, withdrawal, error pages (Flask's test client against the real app and SQLite store)."""

from __future__ import annotations

import re
import time

import pytest
from survey_support import make_bundle

from maskaudit.survey.app import create_app
from maskaudit.survey.store import open_store


@pytest.fixture
def survey(tmp_path):
    bundle, key = make_bundle(tmp_path, trials=3)
    store = open_store(f"sqlite:///{tmp_path}/survey.sqlite")
    yield bundle, key, store
    store.close()


def app_for(survey, **kw):
    bundle, _, store = survey
    app = create_app(bundle, store, secret_key="test", **{"time_limits": [None], **kw})
    return app


def csrf(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


def start(client) -> str:
    token = csrf(client.get("/").data)
    r = client.post("/consent", data={"csrf_token": token, "consent": "yes", "adult": "yes"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/trial")
    return token


def on_screen(client) -> tuple[str, list[str], bytes]:
    page = client.get("/trial")
    assert page.status_code == 200, page.headers.get("Location")
    tid = re.search(rb'name="trial_id" value="([^"]+)"', page.data).group(1).decode()
    return tid, [m.decode() for m in re.findall(rb'src="(/image/[^"]+)"', page.data)], page.data


def test_a_participant_goes_through_and_every_answer_is_stored_once(survey):
    _, key, store = survey
    client = app_for(survey).test_client()
    token = start(client)
    seen = []
    for n in range(3):
        tid, images, page = on_screen(client)
        assert f"Trial {n + 1} of 3".encode() in page
        assert all(client.get(i).status_code == 200 for i in images) and len(images) == 5
        r = client.post(
            "/answer",
            data={"csrf_token": token, "trial_id": tid, "choice": "1", "elapsed_ms": "900"},
        )
        assert r.status_code == 302
        # the same answer again (double click, replay) is not stored twice
        client.post(
            "/answer",
            data={"csrf_token": token, "trial_id": tid, "choice": "2", "elapsed_ms": "900"},
        )
        seen.append(tid)
    assert client.get("/trial").headers["Location"].endswith("/done")
    done = client.get("/done").data
    assert b"Your answers are saved" in done
    table = store.export()
    assert sorted(table.trial_id) == sorted(key.trial_id) and list(table.trial_id) == seen
    assert (
        set(table.choice) == {"1"}
        and set(table.status) == {"complete"}
        and set(table.rt_ms) == {"900"}
    )
    # pseudonymous: the export carries neither the code shown to the participant nor any address
    code = re.search(rb'id="code">([^<]+)<', done).group(1).decode()
    assert code not in table.participant.iloc[0] and store.participant(code)["status"] == "complete"


def test_posts_without_the_session_csrf_token_are_refused(survey):
    client = app_for(survey).test_client()
    assert client.post("/consent", data={"consent": "yes", "adult": "yes"}).status_code == 403
    token = start(client)
    tid, _, _ = on_screen(client)
    other = app_for(survey).test_client()  # another browser's token is not this session's
    other_token = csrf(other.get("/").data)
    assert (
        client.post(
            "/answer", data={"csrf_token": other_token, "trial_id": tid, "choice": "0"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/answer", data={"csrf_token": token, "trial_id": tid, "choice": "0"}
        ).status_code
        == 302
    )
    assert survey[2].counts()["responses"] == 1


@pytest.mark.parametrize(
    "field,value",
    [
        ("choice", "7"),
        ("choice", "1 OR 1=1"),
        ("choice", "timeout"),
        ("trial_id", "t'; DROP TABLE responses;--"),
        ("trial_id", "t000000000099"),
        ("choice", ""),
    ],
)
def test_every_field_is_validated(survey, field, value):
    client = app_for(survey).test_client()
    token = start(client)
    tid, _, _ = on_screen(client)
    form = {"csrf_token": token, "trial_id": tid, "choice": "0", "elapsed_ms": "5", field: value}
    r = client.post("/answer", data=form)
    assert r.status_code == 400 and b"Traceback" not in r.data
    assert survey[2].counts()["responses"] == 0


def test_only_the_trial_on_screen_can_be_answered(survey):
    client = app_for(survey).test_client()
    token = start(client)
    tid, _, _ = on_screen(client)
    order = survey[2].participant(_code(survey[2]))["order"]
    later = [t for t in order if t != tid][0]
    r = client.post("/answer", data={"csrf_token": token, "trial_id": later, "choice": "0"})
    assert r.status_code == 302 and survey[2].counts()["responses"] == 0


def _code(store):
    rows = store._query("SELECT code FROM participants")
    assert len(rows) == 1
    return rows[0][0]


def test_time_limit_conditions_time_outs_and_late_answers(survey):
    store = survey[2]
    app = app_for(survey, time_limits=[None, 1], grace_s=0.2)
    first, second = app.test_client(), app.test_client()
    t1, t2 = start(first), start(second)
    # conditions are assigned in turn: none, then 1 s
    assert b'id="timer"' not in on_screen(first)[2]
    tid, _, page = on_screen(second)
    assert b'id="timer" data-limit-ms="1000"' in page
    assert (
        second.post(
            "/answer", data={"csrf_token": t2, "trial_id": tid, "choice": "timeout"}
        ).status_code
        == 302
    )
    tid, _, _ = on_screen(second)
    # answer after the limit and its grace: stored as a time-out whatever the client says
    time.sleep(1.3)
    second.post(
        "/answer", data={"csrf_token": t2, "trial_id": tid, "choice": "2", "elapsed_ms": "500"}
    )
    tid, _, _ = on_screen(first)  # no limit: a time-out is not a valid answer
    assert (
        first.post(
            "/answer", data={"csrf_token": t1, "trial_id": tid, "choice": "timeout"}
        ).status_code
        == 400
    )
    table = store.export()
    assert list(table.condition) == ["1s", "1s"]
    assert list(table.timed_out) == ["true", "true"] and list(table.choice) == ["", ""]
    assert int(table.server_ms.iloc[1]) >= 1200


def test_images_only_of_the_current_trial_and_never_a_path(survey):
    bundle, _, _ = survey
    client = app_for(survey).test_client()
    every = sorted(p.name for p in (bundle / "images").iterdir())
    assert client.get(f"/image/{every[0]}").status_code == 404  # no session: nothing
    start(client)
    _, images, _ = on_screen(client)
    shown = {i.rsplit("/", 1)[1] for i in images}
    for name in every:
        assert client.get(f"/image/{name}").status_code == (200 if name in shown else 404)
    for bad in [
        "../trials.json",
        "..%2Ftrials.json",
        "%2e%2e/%2e%2e/etc/passwd",
        "trials.json",
        "/etc/passwd",
        every[0].upper(),
    ]:
        r = client.get(f"/image/{bad}")
        assert r.status_code == 404 and b'"trials"' not in r.data


def test_withdrawal_deletes_every_answer_by_session_and_by_code(survey):
    store = survey[2]
    app = app_for(survey)
    a, b = app.test_client(), app.test_client()
    ta, tb = start(a), start(b)
    for client, token in ((a, ta), (b, tb)):
        tid, _, _ = on_screen(client)
        client.post("/answer", data={"csrf_token": token, "trial_id": tid, "choice": "-1"})
    code_b = [c for (c,) in store._query("SELECT code FROM participants")]
    r = a.post("/withdraw", data={"csrf_token": ta})
    assert b"1 answer(s) were deleted" in r.data
    assert a.get("/trial").headers["Location"].endswith("/")  # the session forgot the participant
    remaining = [c for (c,) in store._query("SELECT code FROM participants")]
    assert len(remaining) == 1 and store.counts()["responses"] == 1
    fresh = app.test_client()  # later, from another browser, with the code from the done page
    token = csrf(fresh.get("/withdraw").data)
    assert fresh.post("/withdraw", data={"csrf_token": token, "code": "x" * 22}).status_code == 404
    assert (
        fresh.post("/withdraw", data={"csrf_token": token, "code": "' OR 1=1 --"}).status_code
        == 400
    )
    assert (
        b"1 answer(s) were deleted"
        in fresh.post("/withdraw", data={"csrf_token": token, "code": remaining[0]}).data
    )
    assert store.counts() == {"participants": 0, "complete": 0, "responses": 0, "withdrawals": 2}
    assert set(code_b) >= set(remaining)


def test_rate_limits_per_address_and_per_participant(survey):
    client = app_for(survey, rate_per_address=5).test_client()
    codes = [client.get("/").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    other = app_for(survey, rate_per_participant=1).test_client()
    token = start(other)
    tid, _, _ = on_screen(other)
    other.post("/answer", data={"csrf_token": token, "trial_id": tid, "choice": "0"})
    tid, _, _ = on_screen(other)
    r = other.post("/answer", data={"csrf_token": token, "trial_id": tid, "choice": "0"})
    assert r.status_code == 429 and b"Too many requests" in r.data


def test_errors_show_no_stack_trace_and_headers_are_strict(survey):
    bundle, _, store = survey
    app = app_for(survey)
    client = app.test_client()
    start(client)
    store.answered = None  # the next trial page breaks inside the app
    r = client.get("/trial")
    assert r.status_code == 500 and b"Something went wrong" in r.data
    assert b"Traceback" not in r.data and b"NoneType" not in r.data and b"store" not in r.data
    assert client.get("/nope").status_code == 404
    h = client.get("/").headers
    assert (
        "script-src 'self'" in h["Content-Security-Policy"]
        and "unsafe-inline" not in h["Content-Security-Policy"]
    )
    assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
    cookie = client.get_cookie("survey")
    assert cookie.http_only and cookie.same_site == "Strict"


def test_no_page_carries_the_answer_key_or_other_answers(survey):
    bundle, key, store = survey
    assert "answer" not in (bundle / "trials.json").read_text()
    assert not any(i in (bundle / "trials.json").read_text() for i in key.probe_id)
    app = app_for(survey)
    a, b = app.test_client(), app.test_client()
    ta = start(a)
    tid, _, _ = on_screen(a)
    a.post("/answer", data={"csrf_token": ta, "trial_id": tid, "choice": "3", "elapsed_ms": "777"})
    start(b)
    pages = [b.get(p).data for p in ("/", "/trial", "/withdraw")] + [on_screen(b)[2]]
    assert not any(b"777" in p or b"correct" in p.lower() for p in pages)
