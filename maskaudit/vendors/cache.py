"""On-disk response cache: one SQLite database (WAL journal) shared by parallel jobs.

The key is a SHA-256 over canonical JSON of (cache schema, vendor, operation, endpoint, model
version, parameters, the ordered SHA-256 of the exact image bytes sent, and any gallery hash). It is
never derived from an HTTP body: multipart boundaries are random and Face++ bodies carry the secret.
Values are the adapter's normalised JSON record (raw response fields it keeps, request id, attempts),
never credentials. Only successes and deterministic outcomes (no face, image rejected) are stored.

Concurrency: SQLite in WAL mode lets any number of processes read while one writes; writes are
single ``INSERT OR REPLACE`` statements in their own transaction with a busy timeout, so parallel
Snakemake jobs appending to the same cache neither block for long nor corrupt it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

CACHE_SCHEMA = "maskaudit-vendor-cache-1"


def cache_key(
    vendor: str,
    operation: str,
    *,
    endpoint: str,
    model: str,
    params: dict,
    images: list[str],
    gallery: str | None = None,
) -> str:
    """SHA-256 of the canonical JSON of everything that determines a response (image order matters)."""
    doc = {
        "schema": CACHE_SCHEMA,
        "vendor": vendor,
        "operation": operation,
        "endpoint": endpoint,
        "model": model,
        "params": params,
        "images": list(images),
        "gallery": gallery,
    }
    return hashlib.sha256(
        json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def connect(path: Path, timeout: float = 60.0) -> sqlite3.Connection:
    """A connection in WAL mode. Switching a new database to WAL needs a moment of exclusive access,
    which SQLite reports as ``database is locked`` without waiting on its busy timeout when several
    processes open the database at once, so that one step is retried here until ``timeout``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    deadline, delay = time.monotonic() + timeout, 0.01
    while True:
        try:
            con.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    con.execute("PRAGMA synchronous=NORMAL")
    return con


class ResponseCache:
    """``get(key)`` / ``put(key, ...)`` over ``<cache_dir>/responses.sqlite``."""

    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / "responses.sqlite"
        self._con = connect(self.path)
        self._lock = threading.Lock()
        with self._lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, vendor TEXT NOT NULL, "
                "operation TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL)"
            )

    def get(self, key: str) -> dict | None:
        with self._lock:
            row = self._con.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def contains(self, key: str) -> bool:
        with self._lock:
            return (
                self._con.execute("SELECT 1 FROM responses WHERE key = ?", (key,)).fetchone()
                is not None
            )

    def put(self, key: str, vendor: str, operation: str, value: dict) -> None:
        text = json.dumps(value, sort_keys=True)
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                (key, vendor, operation, text, time.time()),
            )

    def count(self, vendor: str | None = None) -> int:
        with self._lock:
            if vendor is None:
                return self._con.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            return self._con.execute(
                "SELECT COUNT(*) FROM responses WHERE vendor = ?", (vendor,)
            ).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._con.close()
