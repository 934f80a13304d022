"""Resumable, atomic, verified HTTP downloads of a dataset's official archives.

A download writes ``<file>.part`` and asks the server for the missing tail with an HTTP ``Range``
header whenever a ``.part`` is already there (after a dropped connection, or in the next run), so a
20 GB archive never starts over. Only a file whose size and checksum match is renamed to its final
name; a mismatch moves the bytes aside to ``<file>.rejected`` and stops with both values. An archive
whose checksum is not known yet (``checksum: null``) is downloaded, its SHA-256 and size are
recorded in the ``.json`` record beside it and printed, so the value can be pinned.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from maskaudit.fetch import DownloadError, download_resumable, file_digests, publish

log = logging.getLogger(__name__)
_CHECKSUM = re.compile(r"^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$")


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
            raise ValueError(
                f"archive key {self.key!r} must be path-safe; give a key for {self.file!r}"
            )
        if self.checksum is not None and not _CHECKSUM.match(self.checksum):
            raise ValueError(
                f"{self.file}: checksum must be 'sha256:<64 hex>' or 'md5:<32 hex>', got {self.checksum!r}"
            )

    def with_overrides(self, override: dict | None) -> Archive:
        """This archive with ``url``/``checksum``/``size`` replaced from a config entry (a mirror)."""
        if not override:
            return self
        fields = {
            **asdict(self),
            **{k: v for k, v in override.items() if k in ("url", "checksum", "size")},
        }
        if "checksum" in override:
            fields["checksum_source"] = "config override"
        return Archive(**fields)


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
    record = {
        "file": archive.file,
        "key": archive.key,
        "url": archive.url,
        "path": str(path),
        "size": size,
        **digests,
        "expected_checksum": archive.checksum,
        "expected_size": archive.size,
        "checksum_source": archive.checksum_source,
        "pinned": archive.checksum is not None,
    }
    if problems:
        raise DownloadError(
            f"{path.name} does not match the expected archive: " + "; ".join(problems)
        )
    return record


def download(
    archive: Archive,
    dest: str | Path,
    *,
    retries: int = 3,
    timeout: float = 60,
    backoff: float = 1.0,
    block: int = 1 << 20,
) -> dict:
    """Download ``archive.url`` to ``dest`` (resuming ``dest.part``), verify it and return its record.

    Connection drops and short reads are retried up to ``retries`` times, each attempt resuming
    with ``Range: bytes=<have>-``; a server that ignores ``Range`` (200 instead of 206) restarts the
    file. HTTP 4xx errors stop at once. After the last failed attempt the ``.part`` stays, so the
    next run resumes (:func:`maskaudit.fetch.download_resumable`). A file whose size or checksum does
    not match is moved to ``<dest>.rejected``.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    download_resumable(
        archive.url,
        part,
        size=archive.size,
        retries=retries,
        timeout=timeout,
        backoff=backoff,
        block=block,
        name=archive.file,
    )
    rejected = dest.with_name(dest.name + ".rejected")
    try:  # atomic: the final name only ever holds a verified file
        record = publish(part, dest, lambda p: verify_file(p, archive), reject_to=rejected)
    except DownloadError as exc:
        raise DownloadError(
            f"{exc}. The downloaded bytes were moved to {rejected}; the next run downloads "
            f"the file again from {archive.url}. If the publisher changed the archive, "
            "check it and set the new checksum in the dataset's config entry (archives:)."
        ) from None
    record["path"] = str(dest)
    if not archive.checksum:
        log.warning(
            "%s has no pinned checksum; recorded sha256:%s (%s bytes). Pin it in the adapter table "
            "or the config's archives: entry to verify later downloads.",
            archive.file,
            record["sha256"],
            f"{record['size']:,}",
        )
    return record


def write_record(record: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_record(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
