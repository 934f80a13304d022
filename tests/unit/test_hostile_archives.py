"""Hostile input, class *archives*: a dataset archive never writes outside its folder or destroys
what was extracted before.

Expected outcome of each case: a refusal (:class:`ExtractError` naming the archive and member), or a
member skipped with a warning naming it; a failed extraction leaves the previous folder intact.
"""

import io
import logging
import tarfile
import zipfile

import pytest

from maskaudit.datasets.extract import ExtractError, extract_all


def _tgz(path, members):
    with tarfile.open(path, "w:gz") as tf:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    "member", ["../escape.jpg", "/etc/escape.jpg", "a/../../escape.jpg", "C:/escape.jpg"]
)
def test_a_member_leaving_the_folder_is_refused(tmp_path, member):
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr("ok.jpg", b"x")
        zf.writestr(member, b"x")
    with pytest.raises(ExtractError, match="refusing member path"):
        extract_all([tmp_path / "bad.zip"], tmp_path / "data" / "x")
    assert (
        not (tmp_path / "escape.jpg").exists() and not (tmp_path / "data" / "escape.jpg").exists()
    )


def test_a_symlink_member_is_skipped_with_a_warning_never_followed(tmp_path, caplog):
    _tgz(
        tmp_path / "links.tgz", [("a.jpg", b"jpeg", "file"), ("evil.jpg", "/etc/passwd", "symlink")]
    )
    with caplog.at_level(logging.WARNING):
        counts = extract_all([tmp_path / "links.tgz"], tmp_path / "x")
    assert counts == {"links.tgz": 1} and not (tmp_path / "x" / "evil.jpg").exists()
    assert "skipping non-regular member evil.jpg" in caplog.text


def test_a_truncated_archive_stops_and_keeps_the_previous_extraction(tmp_path):
    """Outcome: ExtractError naming the file; the folder extracted by an earlier run is untouched."""
    _tgz(tmp_path / "good.tgz", [("a.jpg", b"old" * 1000, "file")])
    extract_all([tmp_path / "good.tgz"], tmp_path / "x")
    _tgz(
        tmp_path / "new.tgz",
        [("a.jpg", bytes(range(256)) * 400, "file"), ("b.jpg", b"y" * 5000, "file")],
    )
    data = (tmp_path / "new.tgz").read_bytes()
    (tmp_path / "new.tgz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ExtractError, match="cannot unpack .*new.tgz"):
        extract_all([tmp_path / "new.tgz"], tmp_path / "x")
    assert (tmp_path / "x" / "a.jpg").read_bytes() == b"old" * 1000
