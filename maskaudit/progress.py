"""Progress reporting and log setup shared by the workflow's scripts."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from tqdm import tqdm

from maskaudit.usage import report_at_exit

T = TypeVar("T")
log = logging.getLogger("progress")


def progress(
    items: Sequence[T],
    *,
    desc: str,
    unit: str = "it",
    size: Callable[[T], int] = lambda _: 1,
    every: float = 5.0,
) -> Iterable[T]:
    """Yield ``items``, reporting progress in units of ``size(item)`` (e.g. images per batch).

    On a terminal this is a tqdm bar. In a rule's log (not a terminal) it writes one plain line at
    most every ``every`` seconds and at the end, ``desc: done/total unit (rate/s, ETA s)``, so logs
    stay readable without carriage returns.
    """
    total = sum(size(item) for item in items)
    if sys.stderr.isatty():
        with tqdm(total=total, desc=desc, unit=unit, file=sys.stderr) as bar:
            for item in items:
                yield item
                bar.update(size(item))
        return
    start = last = time.perf_counter()
    done = 0
    for item in items:
        yield item
        done += size(item)
        now = time.perf_counter()
        if now - last >= every or done == total:
            rate = done / max(now - start, 1e-9)
            log.info(
                "%s: %d/%d %s (%.1f %s/s, ETA %.0f s)",
                desc,
                done,
                total,
                unit,
                rate,
                unit,
                (total - done) / rate if rate else 0.0,
            )
            last = now


def setup_logging(log_path: str | None = None, *, mem_mb: float | None = None) -> None:
    """Send logging (and anything else written to stderr) to ``log_path`` when given; at exit, log
    the job's CPU, start-up, per-stage time and peak memory against ``mem_mb`` (maskaudit/usage.py)."""
    if log_path:
        sys.stderr = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives for the process
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.captureWarnings(True)
    if log_path:
        report_at_exit(mem_mb)
