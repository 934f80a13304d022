"""Hostile input, class *downloads*: what a weights mirror or origin sends is never stored unverified.

A loopback HTTP server plays the host. Expected outcome of every case: the file is not stored under
its final name (no ``.part``/``.download`` leftovers either), the error names the URL and the reason,
the next URL is tried, and a later lookup finds nothing, so nothing bad is "found" and reused.
"""

import bz2
import http.server
import threading

import pytest
from deepface_weights import write_random_weights

from maskaudit.models import REGISTRY
from maskaudit.models.files import required_files
from maskaudit.weights import WeightFile, WeightsNotFound, fetch, locate


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASKAUDIT_USER_DEEPFACE_HOME", raising=False)


@pytest.fixture()
def host():
    """``routes[path] = (body, declared Content-Length or None)``; yields (base URL, routes)."""
    routes = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path not in routes:
                self.send_error(404)
                return
            body, declared = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(declared if declared is not None else len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    httpd.shutdown()
    httpd.server_close()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def test_an_html_page_from_the_mirror_is_not_stored_and_the_origin_is_tried(host, tmp_path):
    """Outcome: mirror refused (HTML page), origin's real state dict stored, verified."""
    base, routes = host
    spec = required_files(REGISTRY["deepid"], "shared_landmarks")[0]
    real = write_random_weights("DeepID", tmp_path / "src" / spec.name).read_bytes()
    routes[f"/mirror/{spec.name}"] = (b"<!DOCTYPE html><html>login required</html>", None)
    routes["/origin"] = (real, None)
    spec = WeightFile(**{**spec.__dict__, "urls": (f"{base}/origin",)})
    path = fetch(spec, "deepid", fetch_dir=tmp_path / "f", mirror=f"{base}/mirror")
    assert path.read_bytes() == real
    assert leftovers(tmp_path / "f") == [spec.name]


def test_an_html_page_everywhere_stops_naming_each_url(host, tmp_path):
    base, routes = host
    spec = required_files(REGISTRY["deepid"], "shared_landmarks")[0]
    routes[f"/mirror/{spec.name}"] = (b"<html>quota exceeded</html>", None)
    with pytest.raises(WeightsNotFound) as err:
        fetch(
            WeightFile(**{**spec.__dict__, "urls": ()}),
            "deepid",
            fetch_dir=tmp_path / "f",
            mirror=f"{base}/mirror",
        )
    assert f"{base}/mirror/{spec.name}" in str(err.value) and "HTML page" in str(err.value)
    assert leftovers(tmp_path / "f") == [] and locate(spec, None, tmp_path / "f") is None


def test_a_body_shorter_than_its_declared_length_is_not_stored(host, tmp_path):
    base, routes = host
    routes["/net.bin"] = (b"x" * 1000, 5000)
    spec = WeightFile("net.bin", urls=(f"{base}/net.bin",))
    with pytest.raises(WeightsNotFound, match=f"{base}/net.bin: .*gave up"):
        fetch(spec, "m", fetch_dir=tmp_path / "f", timeout=5)
    assert leftovers(tmp_path / "f") == [] and locate(spec, None, tmp_path / "f") is None


def test_a_truncated_bz2_leaves_no_file_and_no_traceback(host, tmp_path):
    """The issue's case: an uncaught EOFError and a 0-byte file that later lookups found."""
    base, routes = host
    whole = bz2.compress(b"dlib model bytes " * 5000)
    routes["/model.dat.bz2"] = (whole[: len(whole) // 2], None)  # honest length, cut stream
    spec = WeightFile("model.dat", urls=(f"{base}/model.dat.bz2",))
    with pytest.raises(WeightsNotFound, match="truncated or corrupt"):
        fetch(spec, "m", fetch_dir=tmp_path / "f")
    assert leftovers(tmp_path / "f") == [] and locate(spec, None, tmp_path / "f") is None


def test_a_pinned_download_with_the_wrong_bytes_is_not_stored(host, tmp_path):
    base, routes = host
    routes["/x.bin"] = (b"tampered", None)
    spec = WeightFile("x.bin", urls=(f"{base}/x.bin",), sha256="0" * 64)
    with pytest.raises(WeightsNotFound, match="does not match the pinned"):
        fetch(spec, "m", fetch_dir=tmp_path / "f")
    assert leftovers(tmp_path / "f") == []
