"""Helpers of the survey tests: a small bundle of generated images, a live server, a local PostgreSQL.

``LocalPostgres()`` runs Debian's PostgreSQL (``/usr/lib/postgresql/<v>/bin``) on a private data
directory in a fresh temp folder, listening on a unix socket there only (no TCP), as the ``postgres``
user when this process is root (PostgreSQL refuses to run as root; CI runs as root), and ``stop()``
ends it with ``pg_ctl stop``. ``SurveyServer`` starts ``maskaudit survey serve`` (waitress) on a free
loopback port in a subprocess and stops it by its process id.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import REPO
from PIL import Image

from maskaudit.survey.bundle import write_bundle
from maskaudit.survey.store import pseudonym


def make_bundle(
    folder: Path, trials: int = 3, candidates: int = 4, seed: int = 0
) -> tuple[Path, pd.DataFrame]:
    """A bundle of ``trials`` trials over generated face-sized images, and its key (answers included)."""
    folder = Path(folder)
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = {"surgical-blue": {}, "none": {}}
    rows = []
    for t in range(trials):
        probe = f"img{t}p"
        path = src / f"{probe}.jpg"
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
        paths["surgical-blue"][probe] = path
        cands = []
        for j in range(candidates):
            name = f"img{t}c{j}"
            path = src / f"{name}.jpg"
            Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
            paths["none"][name] = path
            cands.append(name)
        rows.append(
            {
                "trial_id": f"t{t:012x}",
                "variant": "surgical-blue",
                "probe_id": probe,
                "candidate_ids": ";".join(cands),
                "answer": t % candidates - (t % 2),
            }
        )
    key = pd.DataFrame(rows)
    bundle = folder / "bundle"
    doc = write_bundle(key, paths, bundle, seed=seed, dataset="test", candidates=candidates)
    return bundle, key.assign(build=doc["build"])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SurveyServer:
    """``maskaudit survey serve`` in a subprocess on 127.0.0.1; ``url`` once it listens. Its output goes
    to a log file (never a pipe nobody drains: a busy server's warnings would fill it and stall it)."""

    def __init__(self, bundle: Path, database: str, *args: str, env: dict | None = None):
        import tempfile

        self.cmd = [
            sys.executable,
            "-m",
            "maskaudit",
            "survey",
            "serve",
            "--bundle",
            str(bundle),
            "--database",
            database,
            "--port",
            str(free_port()),
            "--host",
            "127.0.0.1",
            *args,
        ]
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "MASKAUDIT_SURVEY_SECRET": "test-secret",
            **(env or {}),
        }
        self.log_path = Path(tempfile.mkstemp(prefix="survey-server-", suffix=".log")[1])
        self.proc = None

    def __enter__(self) -> SurveyServer:
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                self.cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=self.env
            )
        found = wait_for(
            lambda: (
                re.search(r"http://[\d.]+:(\d+)/", self.log_path.read_text())
                or self.proc.poll() is not None
            ),
            timeout=30,
        )
        m = re.search(r"http://[\d.]+:(\d+)/", self.log_path.read_text())
        if not (found and m):
            self.stop()
            raise RuntimeError(f"survey server did not start: {self.log_path.read_text()[-2000:]}")
        self.url = f"http://127.0.0.1:{m.group(1)}"
        return self

    def stop(self) -> str:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text = self.log_path.read_text() if self.log_path.exists() else ""
        self.log_path.unlink(missing_ok=True)
        return text

    def __exit__(self, *exc) -> None:
        self.log = self.stop()


def require(what: str, present: bool) -> None:
    """Skip a test whose system packages are missing on a developer's machine; in CI (``CI`` set),
    where .ci/run installs them, a missing package fails instead of hiding the test."""
    import pytest

    if not present:
        message = f"{what} is not installed (.ci/run installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class LocalPostgres:
    """PostgreSQL in a fresh folder of the system temp dir (the ``postgres`` user must reach it, and
    pytest's own temp folders are private to root); ``stop()`` ends the server and removes the folder."""

    def __init__(self):
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="maskaudit-pg-"))
        self.bin = postgres_bin()
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str, timeout: float = 60) -> str:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def start(self) -> LocalPostgres:
        self.sock.mkdir(exist_ok=True)
        if self.user:
            shutil.chown(self.root, self.user)
            shutil.chown(self.sock, self.user)
            os.chmod(self.root, 0o755)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "survey",
            "--no-sync",
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            f"-c listen_addresses='' -k {self.sock} -p {self.port} -c fsync=off",
            "start",
        )
        self._run(
            str(self.bin / "createdb"),
            "-h",
            str(self.sock),
            "-p",
            str(self.port),
            "-U",
            "survey",
            "survey",
        )
        return self

    @property
    def url(self) -> str:
        return f"postgresql://survey@/survey?host={self.sock}&port={self.port}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
                )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# A page that is being replaced (the form just submitted) can make an element read by the predicate
# stale or missing for a moment: that means "not yet", and the poll goes on.
TRANSIENT = ("StaleElementReferenceException", "NoSuchElementException")


def wait_for(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except Exception as exc:  # noqa: BLE001 - only selenium's transient page-swap errors, re-raised otherwise
            if type(exc).__name__ not in TRANSIENT:
                raise
        time.sleep(0.05)
    return False


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
TRIAL = re.compile(r'name="trial_id" value="([^"]+)"')


def participant(url: str, barrier: threading.Barrier, out: dict, errors: list, i: int) -> None:
    import requests

    try:
        with requests.Session() as s:
            barrier.wait(timeout=30)
            token = TOKEN.search(s.get(url + "/", timeout=30).text).group(1)
            s.post(
                url + "/consent",
                data={"csrf_token": token, "consent": "yes", "adult": "yes"},
                timeout=30,
            )
            sent = {}
            while True:
                page = s.get(url + "/trial", timeout=30)
                m = TRIAL.search(page.text)
                if not m:
                    break
                choice = str((i + len(sent)) % 5 - 1)
                form = {
                    "csrf_token": token,
                    "trial_id": m.group(1),
                    "choice": choice,
                    "elapsed_ms": str(100 + i),
                }
                s.post(url + "/answer", data=form, timeout=30)
                # a double submit (a second click, a replayed form) must not be stored twice
                if i % 4 == 0:
                    s.post(url + "/answer", data=form, timeout=30)
                sent[m.group(1)] = choice
            code = re.search(r'id="code">([^<]+)<', page.text).group(1)
            out[pseudonym(code)] = sent
    except Exception as exc:  # noqa: BLE001 - counted and reported by the test
        errors.append(f"participant {i}: {exc!r}")


def run_participants(url: str, n: int, out: dict, errors: list, timeout: float = 60) -> bool:
    """``n`` simulated participants at once (threads released together); True when all finished in time.
    ``out``: pseudonym -> {trial id: choice sent}; ``errors``: what went wrong, one line each."""
    barrier = threading.Barrier(n)
    threads = [
        threading.Thread(target=participant, args=(url, barrier, out, errors, i), daemon=True)
        for i in range(n)
    ]
    for t in threads:
        t.start()
    end = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0.0, end - time.monotonic()))
    return not any(t.is_alive() for t in threads)
