"""What a job used: CPU time per stage, start-up, peak memory, written as one line of its log.

A stage of work is timed with ``with stage("decode"): ...`` (CPU time of the whole process, so
threads a library starts count too). At exit, :func:`report_at_exit` writes one line to the log::

    USAGE {"cpu_s": 41.2, "startup_cpu_s": 1.9, "wall_s": 43.0, "peak_rss_mb": 812.4,
           "mem_mb": 3010, "stages": {"decode": 3.1, "align": 2.2, "embed": 33.0}}

``startup_cpu_s`` is what the process spent before the job's code began (interpreter, Snakemake's
script preamble, imports); ``cpu_s - startup_cpu_s - sum(stages)`` is everything else the job did
(reading tables, writing caches). ``peak_rss_mb`` is the kernel's high-water mark of the job's
resident memory (exact, not sampled), checked against the rule's declared ``mem_mb``.
``benchmarks/bench_workflow.py`` reads these lines from every job's log.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

PREFIX = "USAGE "
_STAGES: dict[str, float] = {}
_IMPORTED = time.perf_counter()
log = logging.getLogger("usage")


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the CPU seconds spent inside the block to stage ``name`` (blocks must not nest)."""
    start = time.process_time()
    try:
        yield
    finally:
        _STAGES[name] = _STAGES.get(name, 0.0) + time.process_time() - start


def cpu_seconds() -> float:
    """User + system CPU of this process and the children it waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory in MB: ``VmHWM`` on Linux, which starts
    afresh at ``exec`` (``getrusage``'s ``ru_maxrss`` would keep the forking parent's peak)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def process_wall_s() -> float:
    """Seconds since this process started (Linux ``/proc``; time since import elsewhere)."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as up:
            # field 22: start time in clock ticks
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            uptime = float(up.read().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


def usage(startup_cpu_s: float, mem_mb: float | None) -> dict:
    return {
        "cpu_s": round(cpu_seconds(), 3),
        "startup_cpu_s": round(startup_cpu_s, 3),
        "wall_s": round(process_wall_s(), 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "mem_mb": mem_mb,
        "stages": {k: round(v, 3) for k, v in sorted(_STAGES.items())},
    }


def report_at_exit(mem_mb: float | None = None) -> None:
    """From now on, the CPU already spent counts as start-up; at exit, log the USAGE line."""
    startup = cpu_seconds()

    def _report() -> None:
        record = usage(startup, mem_mb)
        log.info("%s%s", PREFIX, json.dumps(record, sort_keys=True))
        if mem_mb and record["peak_rss_mb"] > mem_mb:
            log.warning(
                "peak memory %.0f MB exceeded the declared mem_mb=%s", record["peak_rss_mb"], mem_mb
            )

    atexit.register(_report)


def read_usage(log_path: str | os.PathLike) -> dict | None:
    """The last USAGE record in a job's log, or ``None`` if it has none (the job did not finish)."""
    found = None
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            at = line.find(PREFIX)
            if at >= 0:
                found = json.loads(line[at + len(PREFIX) :])
    return found
