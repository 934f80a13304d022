"""Raw downloads over real HTTP: pip fetches a package from a PEP 503 index served on loopback."""

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import numpy as np
import pytest
from PIL import Image

from maskaudit import fetch
from maskaudit.datasets import sources
from maskaudit.datasets.demo import build_demo, download_sources
from maskaudit.datasets.manifest import read_manifest


def _png_bytes(colour) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


FACE = _png_bytes((10, 200, 30))


def _wheel() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fakefaces/__init__.py", "")
        zf.writestr("fakefaces/data/face.png", FACE)
        zf.writestr(
            "fakefaces-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: fakefaces\nVersion: 1.0\n",
        )
        zf.writestr(
            "fakefaces-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("fakefaces-1.0.dist-info/RECORD", "")
    return buf.getvalue()


@pytest.fixture()
def index_url():
    """A PEP 503 'simple' index on 127.0.0.1 serving one wheel; yields its URL and the request log."""
    wheel = _wheel()
    name = "fakefaces-1.0-py3-none-any.whl"
    digest = hashlib.sha256(wheel).hexdigest()
    pages = {
        "/simple/fakefaces/": f'<html><body><a href="/files/{name}#sha256={digest}">{name}</a></body></html>'.encode(),
        f"/files/{name}": wheel,
    }
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            requests.append(self.path)
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header(
                "Content-Type",
                "text/html" if self.path.endswith("/") else "application/octet-stream",
            )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/", requests
    server.shutdown()
    server.server_close()


def test_pip_download_over_loopback_and_member_extraction(tmp_path, index_url):
    url, requests = index_url
    archive = fetch.download_distribution(
        "fakefaces==1.0", tmp_path, "wheel", index_url=url, timeout=120
    )
    assert archive.name == "fakefaces-1.0-py3-none-any.whl"
    assert "/simple/fakefaces/" in requests and any(r.startswith("/files/") for r in requests)
    fetched = len([r for r in requests if r.startswith("/files/")])
    again = fetch.download_distribution(
        "fakefaces==1.0", tmp_path, "wheel", index_url=url, timeout=120
    )
    assert again == archive  # pip finds the archive already there and names it
    assert len([r for r in requests if r.startswith("/files/")]) == fetched
    data = fetch.read_member(archive, "fakefaces/data/face.png")
    assert sources.verified(data, hashlib.sha256(FACE).hexdigest(), "face") == FACE
    with pytest.raises(fetch.SourceError, match="does not match the pinned"):
        sources.verified(data, "0" * 64, "face")
    with pytest.raises(fetch.SourceError, match="has no member"):
        fetch.read_member(archive, "fakefaces/data/absent.png")


def test_download_failure_is_reported(tmp_path, index_url):
    url, _ = index_url
    with pytest.raises(fetch.SourceError, match="pip could not download nosuchpkg==9"):
        fetch.download_distribution("nosuchpkg==9", tmp_path, "wheel", index_url=url, timeout=120)


def test_sdist_member(tmp_path):
    path = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("pkg-1.0/tests/face.png")
        info.size = len(FACE)
        tf.addfile(info, io.BytesIO(FACE))
    assert fetch.read_member(path, "pkg-1.0/tests/face.png") == FACE


def test_build_demo_from_downloaded_and_installed_sources(tmp_path, index_url, hopper_path):
    url, _ = index_url
    hopper_sha = hashlib.sha256(hopper_path.read_bytes()).hexdigest()
    spec = {
        "packages": {
            "fake": {"requirement": "fakefaces==1.0", "dist": "wheel"},
            "matplotlib": {"requirement": "matplotlib", "dist": "installed"},
        },
        "licences": {"fake": "test image", "matplotlib": "public domain"},
        "images": [
            {
                "image_id": "green",
                "package": "fake",
                "member": "fakefaces/data/face.png",
                "sha256": hashlib.sha256(FACE).hexdigest(),
                "identity": "p1",
                "gender": "female",
                "race": "Asian",
            },
            {
                "image_id": "green_crop",
                "package": "fake",
                "member": "fakefaces/data/face.png",
                "crop": [10, 5, 30, 25],
                "sha256": hashlib.sha256(FACE).hexdigest(),
                "identity": "p2",
            },
            {
                "image_id": "hopper",
                "package": "matplotlib",
                "member": "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
                "sha256": hopper_sha,
                "identity": "grace_hopper",
                "gender": "female",
                "race": "White",
            },
        ],
    }
    listing = download_sources(spec, tmp_path / "dl", index_url=url)
    assert set(listing.dist) == {"wheel", "installed"}
    build_demo(
        spec, listing, tmp_path / "dl", tmp_path / "ds" / "images", tmp_path / "ds" / "manifest.tsv"
    )
    m = read_manifest(tmp_path / "ds" / "manifest.tsv").set_index("image_id")
    assert m.loc["hopper", "path"].endswith("images/hopper.jpg")
    # bytes unchanged
    assert hashlib.sha256(open(m.loc["hopper", "path"], "rb").read()).hexdigest() == hopper_sha
    assert np.asarray(Image.open(m.loc["green_crop", "path"])).shape == (20, 20, 3)
    assert (
        m.loc["green_crop", "gender"] == "unknown"
        and "crop [10, 5, 30, 25]" in m.loc["green_crop", "source"]
    )
    spec["images"][0]["sha256"] = "f" * 64
    with pytest.raises(fetch.SourceError, match="fakefaces==1.0:fakefaces/data/face.png"):
        build_demo(
            spec,
            listing,
            tmp_path / "dl",
            tmp_path / "ds2" / "images",
            tmp_path / "ds2" / "manifest.tsv",
        )
