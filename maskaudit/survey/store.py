"""One data layer for the survey: SQLite by default, PostgreSQL when a database URL says so.

``open_store("sqlite:///path/to/survey.sqlite")`` (or a bare path) or
``open_store("postgresql://user@host:port/db")``. Every statement is parametrised (values never enter
the SQL text) and written once with ``?`` placeholders, turned into ``%s`` for psycopg. Each thread
keeps its own connection (the web server's worker threads are a fixed pool).

What is stored, and nothing else: a participant's random code (never a name, e-mail, address or
browser string), the time-limit condition, the trial order, a status and the hour of consent; each
answer's trial, position, choice, time-out flag and response times; and a count of withdrawals by
day. A withdrawal deletes the participant's row and every answer (``ON DELETE CASCADE`` and an
explicit delete, in one transaction).

Tables: ``participants(code PK, condition, build, trial_order, status, created, shown_trial,
shown_at)``, ``responses(code, trial_id, position, choice, timed_out, rt_ms, server_ms, PRIMARY KEY
(code, trial_id))`` (a second answer to a trial is refused by the key, never stored twice),
``withdrawals(day, n)``.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS participants (
        code TEXT PRIMARY KEY,
        condition TEXT NOT NULL,
        build TEXT NOT NULL,
        trial_order TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'complete')),
        created TEXT NOT NULL,
        shown_trial TEXT,
        shown_at DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS responses (
        code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
        trial_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        choice INTEGER,
        timed_out INTEGER NOT NULL,
        rt_ms INTEGER,
        server_ms INTEGER NOT NULL,
        PRIMARY KEY (code, trial_id))""",
    """CREATE TABLE IF NOT EXISTS withdrawals (day TEXT PRIMARY KEY, n INTEGER NOT NULL)""",
]

EXPORT_COLUMNS = [
    "participant",
    "build",
    "condition",
    "trial_id",
    "position",
    "choice",
    "timed_out",
    "rt_ms",
    "server_ms",
    "status",
    "source",
]


def pseudonym(code: str) -> str:
    """The id exported for analysis: a hash of the code, so an export never carries the withdrawal secret."""
    return "p" + hashlib.sha256(code.encode()).hexdigest()[:12]


class Store:
    def __init__(self, url: str):
        self.url = url
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        if not self.postgres:
            path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
            if url.startswith("sqlite://") and not url.startswith("sqlite:///"):
                raise ValueError(f"database URL {url!r}: use sqlite:///path/to/file.sqlite")
            self.path = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections, self._lock = [], threading.Lock()
        with self._tx() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    def _connect(self):
        if self.postgres:
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        # WAL: a commit survives a crash of the server, fsync at checkpoints
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA busy_timeout=30000")
        return con

    def _con(self):
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
            with self._lock:
                self._connections.append(con)
        return con

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    class _Tx:
        def __init__(self, store):
            self.store = store

        def __enter__(self):
            con = self.store._con()
            self.cur = con.cursor()
            self.cur.execute("BEGIN IMMEDIATE" if not self.store.postgres else "BEGIN")
            return self

        def execute(self, sql, params=()):
            self.cur.execute(self.store._sql(sql), tuple(params))
            return self.cur

        def __exit__(self, exc_type, *rest):
            self.cur.execute("ROLLBACK" if exc_type else "COMMIT")
            self.cur.close()
            return False

    def _tx(self):
        return self._Tx(self)

    def _query(self, sql, params=()) -> list[tuple]:
        cur = self._con().cursor()
        try:
            cur.execute(self._sql(sql), tuple(params))
            return cur.fetchall()
        finally:
            cur.close()

    # --- participants ---
    def create_participant(
        self, code: str, conditions: list[str], build: str, order: list[str]
    ) -> str:
        """Insert a participant in the least-filled condition (ties: listed order); returns the condition."""
        hour = datetime.now(UTC).strftime("%Y-%m-%dT%H:00Z")
        with self._tx() as tx:
            if self.postgres:  # one assignment at a time, as SQLite's BEGIN IMMEDIATE gives
                tx.execute("LOCK TABLE participants IN SHARE ROW EXCLUSIVE MODE")
            counts = dict(
                tx.execute(
                    "SELECT condition, COUNT(*) FROM participants GROUP BY condition"
                ).fetchall()
            )
            condition = min(conditions, key=lambda c: (counts.get(c, 0), conditions.index(c)))
            tx.execute(
                "INSERT INTO participants (code, condition, build, trial_order, status, created) "
                "VALUES (?, ?, ?, ?, 'active', ?)",
                (code, condition, build, ";".join(order), hour),
            )
        return condition

    def participant(self, code: str) -> dict | None:
        rows = self._query(
            "SELECT code, condition, build, trial_order, status, shown_trial, shown_at "
            "FROM participants WHERE code = ?",
            (code,),
        )
        if not rows:
            return None
        keys = ("code", "condition", "build", "order", "status", "shown_trial", "shown_at")
        p = dict(zip(keys, rows[0]))
        p["order"] = p["order"].split(";") if p["order"] else []
        return p

    def answered(self, code: str) -> set[str]:
        return {r[0] for r in self._query("SELECT trial_id FROM responses WHERE code = ?", (code,))}

    def show(self, code: str, trial: str) -> None:
        """Remember which trial was put on screen and when (server clock); kept when it is shown again."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE participants SET shown_trial = ?, shown_at = ? "
                "WHERE code = ? AND (shown_trial IS NULL OR shown_trial <> ?)",
                (trial, time.time(), code, trial),
            )

    def record(
        self,
        code: str,
        trial: str,
        position: int,
        choice: int | None,
        timed_out: bool,
        rt_ms: int | None,
        server_ms: int,
    ) -> bool:
        """Store one answer; False (and nothing stored) when the participant already answered the trial."""
        with self._tx() as tx:
            cur = tx.execute(
                "INSERT INTO responses (code, trial_id, position, choice, timed_out, rt_ms, server_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code, trial_id) DO NOTHING",
                (code, trial, position, choice, int(timed_out), rt_ms, server_ms),
            )
            stored = cur.rowcount == 1
            if stored:
                tx.execute(
                    "UPDATE participants SET shown_trial = NULL, shown_at = NULL WHERE code = ?",
                    (code,),
                )
        return stored

    def complete(self, code: str) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE participants SET status = 'complete' WHERE code = ?", (code,))

    def withdraw(self, code: str) -> int | None:
        """Delete the participant and every answer; the number of answers deleted, None if unknown."""
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        with self._tx() as tx:
            if not tx.execute("SELECT 1 FROM participants WHERE code = ?", (code,)).fetchall():
                return None
            n = tx.execute("DELETE FROM responses WHERE code = ?", (code,)).rowcount
            tx.execute("DELETE FROM participants WHERE code = ?", (code,))
            tx.execute(
                "INSERT INTO withdrawals (day, n) VALUES (?, 1) "
                "ON CONFLICT (day) DO UPDATE SET n = withdrawals.n + 1",
                (day,),
            )
        return n

    # --- reading out ---
    def counts(self) -> dict:
        one = lambda sql: int(self._query(sql)[0][0] or 0)  # noqa: E731
        return {
            "participants": one("SELECT COUNT(*) FROM participants"),
            "complete": one("SELECT COUNT(*) FROM participants WHERE status = 'complete'"),
            "responses": one("SELECT COUNT(*) FROM responses"),
            "withdrawals": one("SELECT SUM(n) FROM withdrawals"),
        }

    def export(self, source: str = "collected") -> pd.DataFrame:
        """Every stored answer, participants pseudonymised (:func:`pseudonym`), in a stable order."""
        rows = self._query(
            "SELECT p.code, p.build, p.condition, r.trial_id, r.position, r.choice, r.timed_out, "
            "r.rt_ms, r.server_ms, p.status FROM responses r JOIN participants p ON p.code = r.code "
            "ORDER BY p.code, r.position"
        )
        out = pd.DataFrame(rows, columns=EXPORT_COLUMNS[:-1])
        out["participant"] = out.participant.map(pseudonym)
        out["choice"] = [("" if c is None or pd.isna(c) else str(int(c))) for c in out.choice]
        out["timed_out"] = ["true" if int(t) else "false" for t in out.timed_out]
        out["rt_ms"] = ["" if v is None or pd.isna(v) else str(int(v)) for v in out.rt_ms]
        out["source"] = source
        return out.sort_values(["participant", "position"], kind="stable").reset_index(drop=True)

    def close(self) -> None:
        with self._lock:
            for con in self._connections:
                try:
                    con.close()
                except Exception:  # noqa: BLE001 - closing a connection another thread broke
                    pass
            self._connections.clear()
        self._local = threading.local()


def open_store(url: str) -> Store:
    return Store(url)
