"""The survey server under load: throughput, latency and correctness with many simulated participants.

    PYTHONPATH=.:tests python benchmarks/bench_survey.py [--participants 400] [--trials 10] [--postgres]

Starts ``maskaudit survey serve`` (waitress) on loopback with a generated bundle, lets every
simulated participant (a thread with its own HTTP session) consent and answer every trial at once,
then counts what the database holds against what was sent (lost, duplicated) and prints requests per
second, per-request latency percentiles and the server's peak resident memory. SQLite by default;
``--postgres`` also runs it against a PostgreSQL started in a temp folder (tests/support/survey_support.py).
Loopback only, bounded in count and time. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from survey_support import LocalPostgres, SurveyServer, make_bundle

from maskaudit.survey.store import open_store, pseudonym

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TRIAL = re.compile(r'name="trial_id" value="([^"]+)"')


def participant(url, barrier, out, latencies, errors, i):
    import requests

    try:
        with requests.Session() as s:
            barrier.wait(timeout=60)

            def call(method, path, **kw):
                t0 = time.perf_counter()
                r = s.request(method, url + path, timeout=60, **kw)
                latencies.append(time.perf_counter() - t0)
                return r

            token = TOKEN.search(call("GET", "/").text).group(1)
            call("POST", "/consent", data={"csrf_token": token, "consent": "yes", "adult": "yes"})
            sent = {}
            while True:
                page = call("GET", "/trial")
                m = TRIAL.search(page.text)
                if not m:
                    break
                choice = str((i + len(sent)) % 5 - 1)
                call(
                    "POST",
                    "/answer",
                    data={"csrf_token": token, "trial_id": m.group(1), "choice": choice},
                )
                sent[m.group(1)] = choice
            out[pseudonym(re.search(r'id="code">([^<]+)<', page.text).group(1))] = sent
    except Exception as exc:  # noqa: BLE001 - counted below
        errors.append(repr(exc))


def run(bundle, database, n, threads) -> dict:
    out, latencies, errors = {}, [], []
    with SurveyServer(
        bundle,
        database,
        "--threads",
        str(threads),
        "--rate-per-address",
        "0",
        "--time-limits",
        "none",
    ) as srv:
        barrier = threading.Barrier(n)
        workers = [
            threading.Thread(
                target=participant, args=(srv.url, barrier, out, latencies, errors, i), daemon=True
            )
            for i in range(n)
        ]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=600)
        wall = time.perf_counter() - t0
        with open(f"/proc/{srv.proc.pid}/status") as fh:
            peak = int(re.search(r"VmHWM:\s+(\d+)", fh.read()).group(1)) / 1024
    table = open_store(database).export()
    stored = {(r.participant, r.trial_id): r.choice for r in table.itertuples()}
    sent = {(p, t): c for p, a in out.items() for t, c in a.items()}
    lat = np.array(latencies) * 1000
    return {
        "participants": n,
        "finished": len(out),
        "errors": len(errors),
        "requests": len(latencies),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 1),
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 1),
        "latency_ms_max": round(float(lat.max()), 1),
        "server_peak_rss_mib": round(peak, 1),
        "first_error": errors[0] if errors else "",
        "answers_sent": len(sent),
        "answers_stored": len(table),
        "lost": len(set(sent) - set(stored)),
        "duplicated": len(table) - len(stored),
        "mismatched": sum(stored.get(k) != v for k, v in sent.items()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=400)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    try:
        bundle, _ = make_bundle(work, trials=args.trials)
        results = {
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "trials": args.trials,
        }
        results["sqlite"] = run(
            bundle, f"sqlite:///{work}/survey.sqlite", args.participants, args.threads
        )
        if args.postgres:
            with LocalPostgres() as pg:
                results["postgresql"] = run(bundle, pg.url, args.participants, args.threads)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
