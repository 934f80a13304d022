"""Hostile input, class *images*: every bad image becomes a counted row with the right reason.

Expected outcome of each case: :class:`ImageReadError` with the stated ``reason`` (which every
stage writes as a failure-to-acquire row), or the pixels read exactly as their format defines them.
"""

import numpy as np
import pytest
from PIL import Image

from maskaudit.imageio import ImageReadError, read_rgb


# above Pillow's warning limit (89 M), and above ours (144 M)
@pytest.mark.parametrize("side", [10_000, 13_000])
def test_a_decompression_bomb_is_too_large_not_unreadable(tmp_path, side):
    """Outcome: reason ``too_large`` (Pillow's own bomb guard fires before the pixel count is compared)."""
    path = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(path, optimize=True)  # a few kB on disk, 100-169 M pixels
    assert path.stat().st_size < 200_000 and side * side > 89_478_485
    with pytest.raises(ImageReadError) as err:
        read_rgb(path)
    assert err.value.reason == "too_large", err.value.detail


def test_a_dark_16_bit_image_stays_dark(tmp_path):
    """Outcome: samples 0..200 of 65535 read as 0..1, not as an 8-bit image 0..200 (the issue's case)."""
    dark = np.arange(64, dtype=np.uint16).reshape(8, 8) * 3 + 11  # max 200
    Image.fromarray(dark).save(tmp_path / "dark.png")
    assert Image.open(tmp_path / "dark.png").mode == "I;16"
    out = read_rgb(tmp_path / "dark.png")
    assert out.max() == round(200 * 255 / 65535) == 1 and out.dtype == np.uint8


@pytest.mark.parametrize(
    "content,reason",
    [(b"", "unreadable"), (b"<html>not an image</html>", "unreadable"), (None, "missing_file")],
)
def test_empty_fake_and_missing_files_are_rows(tmp_path, content, reason):
    path = tmp_path / "x.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageReadError) as err:
        read_rgb(path)
    assert err.value.reason == reason
