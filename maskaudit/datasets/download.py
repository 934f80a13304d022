"""Resumable, atomic, verified HTTP downloads of a dataset's official archives.

A download writes ``<file>.part`` and asks the server for the missing tail with an HTTP ``Range``
header whenever a ``.part`` is already there (after a dropped connection, or in the next run), so a
20 GB archive never starts over. Only a file whose size and checksum match is renamed to its final
name; a mismatch moves the bytes aside to ``<file>.rejected`` and stops with both values. An archive
whose checksum is not known yet (``checksum: null``) is downloaded, its SHA-256 and size are
recorded in the ``.json`` record beside it and printed, so the value can be pinned.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)
_CHECKSUM = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")


class DownloadError(RuntimeError):
    """A download failed for good (bad checksum, HTTP error, retries spent); the message says why."""


@dataclass(frozen=True)
class Archive:
    """One file of a dataset as its publisher distributes it.

    ``file`` is the publisher's file name (what a manual download is saved as); ``key`` names it in
    workflow paths (``file`` unless that has characters unsafe in paths, e.g. spaces). ``url`` is the
    official download URL (direct access) or the page where the file is obtained (manual access).
    ``checksum`` is ``sha256:<hex>`` or ``md5:<hex>``, or None where nobody outside the licence
    has seen the file; ``size`` is in bytes or None. ``checksum_source`` says where a pinned value
    comes from.
    """

    file: str
    url: str
    checksum: str | None = None
    size: int | None = None
    checksum_source: str = ""
    key: str = ""

    def __post_init__(self):
        if not self.key:
            object.__setattr__(self, "key", self.file)
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", self.key):
            raise ValueError(f"archive key {self.key!r} must be path-safe; give a key for {self.file!r}")
        if self.checksum is not None and not _CHECKSUM.match(self.checksum):
            raise ValueError(f"{self.file}: checksum must be 'sha256:<64 hex>' or 'md5:<32 hex>', got {self.checksum!r}")

    def with_overrides(self, override: dict | None) -> "Archive":
        """This archive with ``url``/``checksum``/``size`` replaced from a config entry (a mirror)."""
        if not override:
            return self
        fields = {**asdict(self), **{k: v for k, v in override.items() if k in ("url", "checksum", "size")}}
        if "checksum" in override:
            fields["checksum_source"] = "config override"
        return Archive(**fields)


def file_digests(path: str | Path) -> dict[str, str]:
    """SHA-256 and MD5 of a file, read once in 1 MiB blocks."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return {"sha256": sha.hexdigest(), "md5": md5.hexdigest()}


def verify_file(path: str | Path, archive: Archive) -> dict:
    """Check size and checksum of ``path`` against ``archive``; return the record or raise."""
    path = Path(path)
    size = path.stat().st_size
    digests = file_digests(path)
    problems = []
    if archive.size is not None and size != archive.size:
        problems.append(f"size {size:,} bytes, expected {archive.size:,}")
    if archive.checksum:
        algo, expected = archive.checksum.split(":", 1)
        if digests[algo] != expected:
            problems.append(f"{algo} {digests[algo]}, expected {expected}")
    record = {"file": archive.file, "key": archive.key, "url": archive.url, "path": str(path), "size": size,
              **digests, "expected_checksum": archive.checksum, "expected_size": archive.size,
              "checksum_source": archive.checksum_source, "pinned": archive.checksum is not None}
    if problems:
        raise DownloadError(f"{path.name} does not match the expected archive: " + "; ".join(problems))
    return record


def download(archive: Archive, dest: str | Path, *, retries: int = 3, timeout: float = 60,
             backoff: float = 1.0, block: int = 1 << 20, warn_unpinned: bool = True) -> dict:
    """Download ``archive.url`` to ``dest`` (resuming ``dest.part``), verify it and return its record.

    Connection drops and short reads are retried up to ``retries`` times, each attempt resuming
    with ``Range: bytes=<have>-``; a server that ignores ``Range`` (200 instead of 206) restarts the
    file. HTTP 4xx errors stop at once. After the last failed attempt the ``.part`` stays, so the
    next run resumes. ``warn_unpinned=False``: the caller verifies the file itself (weight files).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(1, retries + 2):
        try:
            if _fetch(archive, part, timeout=timeout, block=block):
                break
        except DownloadError:
            raise
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, IncompleteRead
            log.warning("attempt %d for %s stopped after %s bytes: %s", attempt, archive.url,
                        f"{part.stat().st_size:,}" if part.exists() else 0, exc)
        if attempt <= retries:
            time.sleep(backoff * attempt)
    else:
        have = part.stat().st_size if part.exists() else 0
        raise DownloadError(f"{archive.url}: gave up after {retries + 1} attempts with {have:,} bytes in {part}; "
                            "run the workflow again to resume from there")
    try:
        record = verify_file(part, archive)
    except DownloadError as exc:
        rejected = dest.with_name(dest.name + ".rejected")
        os.replace(part, rejected)
        raise DownloadError(f"{exc}. The downloaded bytes were moved to {rejected}; the next run downloads "
                            f"the file again from {archive.url}. If the publisher changed the archive, "
                            "check it and set the new checksum in the dataset's config entry (archives:).") from None
    os.replace(part, dest)  # atomic: the final name only ever holds a verified file
    record["path"] = str(dest)
    if not archive.checksum and warn_unpinned:
        log.warning("%s has no pinned checksum; recorded sha256:%s (%s bytes). Pin it in the adapter table "
                    "or the config's archives: entry to verify later downloads.", archive.file,
                    record["sha256"], f"{record['size']:,}")
    return record


def _fetch(archive: Archive, part: Path, *, timeout: float, block: int) -> bool:
    """One attempt: append the missing bytes to ``part``. True when the file is complete."""
    have = part.stat().st_size if part.exists() else 0
    if archive.size is not None and have > archive.size:
        part.unlink()
        have = 0
    if archive.size is not None and have == archive.size and have > 0:
        return True
    headers = {"User-Agent": "maskaudit-dataset-download"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(archive.url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: what we have is the whole file
            return True
        if 400 <= exc.code < 500:
            raise DownloadError(f"{archive.url}: HTTP {exc.code} {exc.reason}") from None
        raise
    with response:
        if response.status == 206:
            start = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
            if not start or int(start.group(1)) != have:
                raise DownloadError(f"{archive.url}: server answered Range {have}- with "
                                    f"Content-Range {response.headers.get('Content-Range')!r}")
            mode = "ab"
            log.info("resuming %s at byte %s", archive.file, f"{have:,}")
        else:
            if have:
                log.info("server ignored the Range request; downloading %s from the start", archive.file)
            mode, have = "wb", 0
        length = response.headers.get("Content-Length")
        expected_total = have + int(length) if length is not None else archive.size
        with open(part, mode) as fh:
            while chunk := response.read(block):
                fh.write(chunk)
    got = part.stat().st_size
    if expected_total is not None and got < expected_total:
        raise http.client.IncompleteRead(b"", expected_total - got)
    return True


def write_record(record: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_record(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
