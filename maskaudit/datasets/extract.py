"""Unpacking downloaded archives into one folder per dataset, refusing unsafe member paths."""

from __future__ import annotations

import logging
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2")


class ExtractError(RuntimeError):
    """An archive is corrupt or holds an unsafe member; the message names the archive."""


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _safe(name: str, archive: Path) -> str:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts or ":" in parts[0]:
        raise ExtractError(
            f"{archive.name}: refusing member path {name!r} (absolute or leaving the folder)"
        )
    return "/".join(parts)


def extract_into(path: str | Path, dest: str | Path) -> int:
    """Unpack one archive (or copy one plain file) into ``dest``; return the number of files written."""
    path, dest = Path(path), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                for m in members:
                    target = dest / _safe(m.filename, path)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(m) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                return len(members)
        if name.endswith((".tar.gz", ".tgz", ".tar", ".tar.bz2")):
            count = 0
            with tarfile.open(path, "r:*") as tf:
                for m in tf:
                    if m.isdir():
                        continue
                    if not m.isfile():  # links and devices are never followed
                        log.warning("%s: skipping non-regular member %s", path.name, m.name)
                        continue
                    target = dest / _safe(m.name, path)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    src = tf.extractfile(m)
                    with src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    count += 1
            return count
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise ExtractError(f"cannot unpack {path}: {exc}") from exc
    shutil.copyfile(path, dest / path.name)  # a label file (CSV, TXT, XLSX) sits beside the images
    return 1


def extract_all(paths, dest: str | Path) -> dict[str, int]:
    """Unpack every archive of a dataset into ``dest`` (built in ``dest.tmp``, renamed when complete)."""
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    counts = {}
    for p in paths:
        counts[Path(p).name] = extract_into(p, tmp)
        log.info("%s: %d file(s)", Path(p).name, counts[Path(p).name])
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return counts
