"""The survey's one data layer against both real servers: SQLite and PostgreSQL from Debian's package,
started by the test in a temp folder (as the `postgres` user when run as root) and stopped afterwards."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import REPO
from survey_support import (
    LocalPostgres,
    SurveyServer,
    make_bundle,
    postgres_bin,
    require,
    run_participants,
)

from maskaudit.survey.store import open_store, pseudonym


@pytest.fixture(scope="module")
def postgres():
    require("PostgreSQL (Debian package postgresql)", postgres_bin() is not None)
    with LocalPostgres() as pg:
        yield pg


def empty(store):
    """Each test starts from empty tables (the server is shared by the module)."""
    with store._tx() as tx:
        for table in ("responses", "participants", "withdrawals"):
            tx.execute(f"DELETE FROM {table}")
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, postgres):
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/survey.sqlite")
    else:
        s = empty(open_store(postgres.url))
    yield s
    s.close()


def test_the_store_behaves_the_same_on_both_databases(store):
    a, b = "A" * 22, "B" * 22
    assert [
        store.create_participant(c, ["none", "10s"], "build1", ["t1", "t2"]) for c in (a, b)
    ] == ["none", "10s"]
    store.show(a, "t1")
    assert store.record(a, "t1", 0, 2, False, 1500, 1600) is True
    # the first answer stands, nothing stored twice
    assert store.record(a, "t1", 0, 3, False, 10, 10) is False
    store.show(a, "t2")
    assert store.record(a, "t2", 1, None, True, None, 10000)
    assert store.record(b, "t2", 0, -1, False, 700, 800)
    store.complete(a)
    evil = "x'); DROP TABLE responses; --"
    # values are parameters, not SQL
    assert store.participant(evil) is None and store.withdraw(evil) is None
    table = store.export()
    assert table[
        ["participant", "trial_id", "choice", "timed_out", "status"]
    ].values.tolist() == sorted(
        [
            [pseudonym(a), "t1", "2", "false", "complete"],
            [pseudonym(a), "t2", "", "true", "complete"],
            [pseudonym(b), "t2", "-1", "false", "active"],
        ]
    )
    assert store.withdraw(b) == 1 and store.participant(b) is None
    assert store.counts() == {"participants": 1, "complete": 1, "responses": 2, "withdrawals": 1}


def test_the_app_on_postgresql_and_its_export(tmp_path, postgres):
    empty(open_store(postgres.url))
    bundle, key = make_bundle(tmp_path, trials=2)
    out, errors = {}, []
    with SurveyServer(bundle, postgres.url, "--threads", "8", "--time-limits", "none,10") as srv:
        assert run_participants(srv.url, 20, out, errors, timeout=30)
    assert not errors, errors[:3]
    export = tmp_path / "responses.tsv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "maskaudit",
            "survey",
            "export",
            "--database",
            postgres.url,
            "--out",
            str(export),
        ],
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    table = pd.read_csv(export, sep="\t", dtype=str, keep_default_na=False)
    mine = table[table.participant.isin(out)]
    assert len(mine) == 40 and {
        (r.participant, r.trial_id): r.choice for r in mine.itertuples()
    } == {(p, t): c for p, answers in out.items() for t, c in answers.items()}
    # conditions in turn, exactly balanced even when participants arrive at once
    assert sorted(mine.groupby("participant").condition.first().value_counts().tolist()) == [10, 10]
