"""Archives that cannot be downloaded by a program: a licence form, a request e-mail, a login, or
a Google Drive link. The user saves the file in a documented place; the workflow only looks there.
"""

from __future__ import annotations

import logging
from pathlib import Path

from maskaudit.datasets.download import Archive, verify_file
from maskaudit.fetch import DownloadError

log = logging.getLogger(__name__)


class ManualDownloadRequired(FileNotFoundError):
    """The archive is not where the workflow looks; the message says how to get it and where to put it."""


def manual_path(manual_dir: str | Path, dataset: str, archive: Archive) -> Path:
    """Where the user puts a manually obtained archive: ``<manual_dir>/<dataset>/<file>``."""
    return Path(manual_dir) / dataset / archive.file


def locate_manual(
    archive: Archive,
    dataset: str,
    manual_dir: str | Path,
    *,
    title: str,
    licence: str,
    licence_url: str,
    how: str,
) -> dict:
    """Return the verified record of a manually placed archive, or raise with the instructions."""
    path = manual_path(manual_dir, dataset, archive)
    if not path.is_file():
        raise ManualDownloadRequired(
            f"dataset '{dataset}' ({title}) needs a file that only you can obtain:\n"
            f"  file:        {archive.file}\n"
            f"  get it from: {archive.url}\n"
            f"  licence:     {licence} ({licence_url})\n"
            f"  how:         {how}\n"
            f"  put it at:   {path}\n"
            "then run the workflow again. The workflow reads this archive only from that place and "
            "downloads nothing for this dataset."
        )
    try:
        record = verify_file(path, archive)
    except DownloadError as exc:
        raise DownloadError(
            f"{exc} (file at {path}). Obtain the archive again from {archive.url}."
        ) from None
    record["access"] = "manual"
    if not archive.checksum:
        log.warning(
            "%s has no pinned checksum; recorded sha256:%s (%s bytes). Pin it under the dataset's "
            "archives: entry to verify later copies.",
            archive.file,
            record["sha256"],
            f"{record['size']:,}",
        )
    return record
