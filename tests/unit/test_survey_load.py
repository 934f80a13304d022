"""200 simulated participants at once against `maskaudit survey serve` (waitress) on loopback only:
no response lost, none stored twice (counted). Bounded: 2 trials each, 60 s at most."""

from __future__ import annotations

from survey_support import SurveyServer, make_bundle, run_participants

from maskaudit.survey.store import open_store

PARTICIPANTS = 200
TRIALS = 2


def test_200_concurrent_participants_lose_and_duplicate_nothing(tmp_path):
    bundle, key = make_bundle(tmp_path, trials=TRIALS)
    db = f"sqlite:///{tmp_path}/survey.sqlite"
    out, errors = {}, []
    with SurveyServer(
        bundle, db, "--threads", "16", "--rate-per-address", "20000", "--time-limits", "none"
    ) as srv:
        assert run_participants(srv.url, PARTICIPANTS, out, errors, timeout=60), (
            "load test did not finish in 60 s"
        )
    assert not errors, errors[:5]
    assert len(out) == PARTICIPANTS
    table = open_store(db).export()
    stored = {(r.participant, r.trial_id): r.choice for r in table.itertuples()}
    sent = {(p, t): c for p, answers in out.items() for t, c in answers.items()}
    lost = set(sent) - set(stored)
    duplicated = len(table) - len(stored)
    assert (len(sent), len(lost), duplicated) == (PARTICIPANTS * TRIALS, 0, 0)
    assert stored == sent and set(table.status) == {"complete"}
