"""Every kind of awkward image file is either read into upright 8-bit RGB or rejected with a reason."""

import io

import numpy as np
import pytest
from PIL import Image

from maskaudit.imageio import ImageReadError, read_rgb


def _save(tmp_path, name, img, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_truncated_jpeg_is_unreadable(tmp_path, hopper_path):
    data = hopper_path.read_bytes()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as err:
        read_rgb(path)
    assert err.value.reason == "unreadable"
    assert "truncated" in str(err.value).lower() or "broken" in str(err.value).lower()


def test_not_an_image_and_missing_file(tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"this is not a jpeg")
    with pytest.raises(ImageReadError) as err:
        read_rgb(junk)
    assert err.value.reason == "unreadable"
    with pytest.raises(ImageReadError) as err:
        read_rgb(tmp_path / "absent.png")
    assert err.value.reason == "missing_file"


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red-ish, bottom half fully transparent
    out = read_rgb(_save(tmp_path, "a.png", Image.fromarray(rgba, "RGBA")))
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    assert out[0, 0].tolist() == [200, 0, 0]
    assert out[3, 3].tolist() == [255, 255, 255]


def test_grayscale_and_16bit_become_rgb(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    out = read_rgb(_save(tmp_path, "g.png", Image.fromarray(grey, "L")))
    assert out.shape == (8, 8, 3)
    assert (out[..., 0] == grey).all() and (out[..., 2] == grey).all()
    deep = np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000
    out16 = read_rgb(_save(tmp_path, "d.png", Image.fromarray(deep)))
    # scaled by the full 16-bit range: 63000 / 65535 * 255 = 245.1
    assert out16.dtype == np.uint8 and out16.max() == 245 and out16[0, 0, 0] == 0


def test_palette_image(tmp_path):
    img = Image.fromarray(np.full((5, 5, 3), (10, 120, 200), np.uint8)).convert(
        "P", palette=Image.Palette.ADAPTIVE
    )
    assert read_rgb(_save(tmp_path, "p.png", img))[2, 2].tolist() == [10, 120, 200]


def test_exif_rotation_is_applied(tmp_path):
    """A portrait stored sideways with EXIF Orientation=6 (rotate 90 CW to view) is read upright."""
    upright = np.zeros((40, 20, 3), np.uint8)
    upright[:10] = 255  # bright band at the top of the upright picture
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # as the camera wrote it
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    path = tmp_path / "rot.jpg"
    path.write_bytes(buf.getvalue())
    out = read_rgb(path)
    assert out.shape == (40, 20, 3)
    assert out[:8].mean() > 200 and out[12:].mean() < 50
