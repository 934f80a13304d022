"""The spend ledger and hard cap per vendor, and receipts of every gallery created.

Both live in ``<cache_dir>/ledger.sqlite`` next to the response cache, so the budget belongs to the
study that owns the cache: every *attempt* sent through it (retries included) is charged before it is
sent, in one ``BEGIN IMMEDIATE`` transaction, so parallel jobs can never overspend together. An
attempt that would take a vendor past ``max_calls`` or ``max_usd`` raises
:class:`~maskaudit.vendors.errors.BudgetExceeded` and nothing is sent. Raise the cap (or point
``vendors.cache_dir`` at a new folder for a new study) to go on; cached responses stay free.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from maskaudit.vendors.cache import connect
from maskaudit.vendors.errors import BudgetExceeded


@dataclass(frozen=True)
class Cap:
    max_calls: int | None = None
    max_usd: float | None = None


class Ledger:
    def __init__(self, cache_dir: str | Path):
        self.path = Path(cache_dir) / "ledger.sqlite"
        self._con = connect(self.path)
        self._lock = threading.Lock()
        with self._lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS spend (vendor TEXT PRIMARY KEY, calls INTEGER NOT NULL, "
                "usd REAL NOT NULL)"
            )
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS galleries (vendor TEXT NOT NULL, name TEXT NOT NULL, "
                "run_id TEXT NOT NULL, created REAL NOT NULL, deleted REAL, "
                "PRIMARY KEY (vendor, name))"
            )

    # -- spend -----------------------------------------------------------------------------------
    def spent(self, vendor: str) -> tuple[int, float]:
        with self._lock:
            row = self._con.execute(
                "SELECT calls, usd FROM spend WHERE vendor = ?", (vendor,)
            ).fetchone()
        return (0, 0.0) if row is None else (int(row[0]), float(row[1]))

    def charge(self, vendor: str, operation: str, usd: float, cap: Cap) -> None:
        """Record one attempt, or raise :class:`BudgetExceeded` (recording nothing) if it would exceed ``cap``."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                row = self._con.execute(
                    "SELECT calls, usd FROM spend WHERE vendor = ?", (vendor,)
                ).fetchone()
                calls, spent = (0, 0.0) if row is None else (int(row[0]), float(row[1]))
                if cap.max_calls is not None and calls + 1 > cap.max_calls:
                    raise BudgetExceeded(
                        f"{vendor}: the next call ({operation}) would be call {calls + 1}, over the cap "
                        f"vendors.{vendor}.max_calls = {cap.max_calls}. Nothing was sent. Fix: run "
                        f"`maskaudit vendors plan` and raise the cap if the cost is acceptable"
                    )
                if cap.max_usd is not None and spent + usd > cap.max_usd + 1e-12:
                    raise BudgetExceeded(
                        f"{vendor}: the next call ({operation}) would bring the estimated spend to "
                        f"${spent + usd:.4f}, over the cap vendors.{vendor}.max_usd = {cap.max_usd}. Nothing "
                        f"was sent. Fix: run `maskaudit vendors plan` and raise the cap if acceptable"
                    )
                self._con.execute(
                    "INSERT INTO spend VALUES (?, 1, ?) ON CONFLICT(vendor) DO UPDATE SET "
                    "calls = calls + 1, usd = usd + excluded.usd",
                    (vendor, usd),
                )
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise

    # -- gallery receipts ------------------------------------------------------------------------
    def gallery_created(self, vendor: str, name: str, run_id: str) -> None:
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO galleries VALUES (?, ?, ?, ?, NULL)",
                (vendor, name, run_id, time.time()),
            )

    def gallery_deleted(self, vendor: str, name: str) -> None:
        with self._lock:
            self._con.execute(
                "UPDATE galleries SET deleted = ? WHERE vendor = ? AND name = ?",
                (time.time(), vendor, name),
            )

    def open_galleries(self, vendor: str) -> list[str]:
        with self._lock:
            rows = self._con.execute(
                "SELECT name FROM galleries WHERE vendor = ? AND deleted IS NULL ORDER BY created",
                (vendor,),
            ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        with self._lock:
            self._con.close()
