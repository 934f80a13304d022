"""maskaudit.fetch: hashing, atomic ``.part`` writes and resumable HTTP, against a loopback HTTP server."""

import bz2
import hashlib
import http.server
import os
import threading

import pytest

from maskaudit import fetch

BODY = bytes(range(256)) * 400  # 102,400 bytes


class Route:
    """How the host answers one path: ``ranges`` honours ``Range`` (else answers 200 with the whole
    body); ``drop_first`` cuts the first full response after half the body (announcing the whole
    length); ``short`` always announces ``len(body) + short`` bytes and sends only the body."""

    def __init__(self, body, *, ranges=True, drop_first=False, short=0, status=200):
        self.body, self.ranges, self.drop_first, self.short, self.status = (
            body,
            ranges,
            drop_first,
            short,
            status,
        )


@pytest.fixture()
def host():
    """Yields (base URL, routes, requests); ``requests`` logs (path, Range header) of every request."""
    routes, requests = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            rng = self.headers.get("Range")
            requests.append((self.path, rng))
            route = routes.get(self.path)
            if route is None or route.status != 200:
                self.send_error(route.status if route else 404)
                return
            body, start = route.body, 0
            if rng and route.ranges:
                start = int(rng[len("bytes=") :].split("-")[0])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            body = body[start:]
            self.send_header("Content-Length", str(len(body) + route.short))
            self.send_header("Connection", "close")
            self.end_headers()
            if route.drop_first and not rng:
                route.drop_first = False
                body = body[: len(body) // 2]
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes, requests
    httpd.shutdown()
    httpd.server_close()


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- hashing -----------------------------------------------------------------------------------------
def test_hashes_match_hashlib_and_the_cached_hash_follows_the_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(BODY)
    sha, md5 = hashlib.sha256(BODY).hexdigest(), hashlib.md5(BODY).hexdigest()
    assert (
        fetch.sha256_bytes(BODY)
        == sha
        == fetch.sha256_file(path)
        == fetch.sha256_file(path, cached=True)
    )
    assert fetch.file_digests(path) == {"sha256": sha, "md5": md5}
    assert fetch.file_digests(path, ("sha256",)) == {"sha256": sha}
    path.write_bytes(BODY + b"more")  # another size: the cache key changes with it
    assert fetch.sha256_file(path, cached=True) == hashlib.sha256(BODY + b"more").hexdigest() != sha


# -- HTTP ------------------------------------------------------------------------------------------------
def test_a_dropped_connection_is_resumed_with_range(host, tmp_path):
    base, routes, requests = host
    routes["/a.bin"] = Route(BODY, drop_first=True)
    part = fetch.download_resumable(f"{base}/a.bin", tmp_path / "a.bin.part", retries=2, backoff=0)
    assert part.read_bytes() == BODY
    assert requests == [("/a.bin", None), ("/a.bin", f"bytes={len(BODY) // 2}-")]


def test_an_existing_part_is_resumed_and_a_complete_one_asks_for_nothing_more(host, tmp_path):
    base, routes, requests = host
    routes["/a.bin"] = Route(BODY)
    part = tmp_path / "a.bin.part"
    part.write_bytes(BODY[:1000])
    fetch.download_resumable(f"{base}/a.bin", part, size=len(BODY))
    assert part.read_bytes() == BODY and requests == [("/a.bin", "bytes=1000-")]
    # known size reached: no request
    fetch.download_resumable(f"{base}/a.bin", part, size=len(BODY))
    assert len(requests) == 1
    # size unknown: the server answers 416, nothing to add
    fetch.download_resumable(f"{base}/a.bin", part)
    assert part.read_bytes() == BODY and requests[-1] == ("/a.bin", f"bytes={len(BODY)}-")


def test_a_server_that_ignores_range_restarts_the_file(host, tmp_path):
    base, routes, requests = host
    routes["/a.bin"] = Route(BODY, ranges=False)
    part = tmp_path / "a.bin.part"
    part.write_bytes(b"stale bytes from elsewhere")
    fetch.download_resumable(f"{base}/a.bin", part)
    assert part.read_bytes() == BODY and requests == [("/a.bin", "bytes=26-")]


def test_giving_up_keeps_the_part_for_a_later_run_or_removes_it(host, tmp_path):
    base, routes, requests = host
    routes["/short.bin"] = Route(BODY[:500], ranges=False, short=100)  # always 100 bytes short
    part = tmp_path / "short.bin.part"
    with pytest.raises(
        fetch.DownloadError,
        match=r"short.bin: gave up after 2 attempts with 500 bytes in .*"
        r"; run the workflow again to resume from there",
    ):
        fetch.download_resumable(f"{base}/short.bin", part, retries=1, backoff=0)
    assert part.read_bytes() == BODY[:500] and len(requests) == 2
    with pytest.raises(fetch.DownloadError) as err:
        fetch.download_resumable(f"{base}/short.bin", part, retries=1, backoff=0, keep_part=False)
    assert "gave up after 2 attempts" in str(err.value) and "resume" not in str(err.value)
    assert files_in(tmp_path) == []


def test_an_http_client_error_stops_at_once(host, tmp_path):
    base, routes, requests = host
    routes["/gone.bin"] = Route(b"", status=403)
    with pytest.raises(fetch.DownloadError, match=r"/gone.bin: HTTP 403 Forbidden"):
        fetch.download_resumable(f"{base}/gone.bin", tmp_path / "gone.part", retries=3, backoff=0)
    with pytest.raises(fetch.DownloadError, match="HTTP 404"):
        fetch.download_resumable(
            f"{base}/absent.bin", tmp_path / "absent.part", retries=3, backoff=0
        )
    assert len(requests) == 2 and files_in(tmp_path) == []


# -- atomic writes ---------------------------------------------------------------------------------------
def test_store_url_decodes_bz2_and_leaves_only_the_target(host, tmp_path):
    base, routes, _ = host
    routes["/m.dat.bz2"] = Route(bz2.compress(BODY))
    seen = []
    target = fetch.store_url(tmp_path / "out" / "m.dat", f"{base}/m.dat.bz2", seen.append)
    assert target.read_bytes() == BODY and files_in(tmp_path / "out") == ["m.dat"]
    # the check sees the decoded .part, before the rename
    assert seen == [tmp_path / "out" / "m.dat.part"]


def test_store_url_failures_leave_nothing_and_keep_an_older_target(host, tmp_path):
    base, routes, _ = host
    whole = bz2.compress(BODY)
    routes["/cut.dat.bz2"] = Route(whole[: len(whole) // 2])
    routes["/x.bin"] = Route(BODY)
    with pytest.raises(
        fetch.FetchError, match=r"the \.bz2 body is truncated or corrupt \(EOFError"
    ):
        fetch.store_url(tmp_path / "cut.dat", f"{base}/cut.dat.bz2")
    assert files_in(tmp_path) == []
    (tmp_path / "x.bin").write_bytes(b"the file from before")
    reject = fetch.problem_check(
        lambda path: f"{path.stat().st_size} bytes is not the expected file"
    )
    with pytest.raises(fetch.FetchError, match=f"^{len(BODY)} bytes is not the expected file$"):
        fetch.store_url(tmp_path / "x.bin", f"{base}/x.bin", reject)
    assert (
        files_in(tmp_path) == ["x.bin"]
        and (tmp_path / "x.bin").read_bytes() == b"the file from before"
    )
    with pytest.raises(fetch.DownloadError, match="HTTP 404"):
        fetch.store_url(tmp_path / "y.bin", f"{base}/y.bin")
    assert files_in(tmp_path) == ["x.bin"]


def test_store_bytes_and_publish(tmp_path):
    target = tmp_path / "rec.json"
    fetch.store_bytes(target, b"{}\n", unique=True)
    assert target.read_bytes() == b"{}\n" and files_in(tmp_path) == ["rec.json"]
    assert fetch.part_path(target).name == "rec.json.part"
    assert fetch.part_path(target, unique=True).name == f"rec.json.{os.getpid()}.part"
    with pytest.raises(fetch.FetchError, match="empty"):
        fetch.store_bytes(
            target, b"", fetch.problem_check(lambda p: "empty" if not p.stat().st_size else None)
        )
    assert target.read_bytes() == b"{}\n" and files_in(tmp_path) == ["rec.json"]
    # publish returns the check's result; a rejected file can be moved aside instead of removed
    part = tmp_path / "a.part"
    part.write_bytes(b"abc")
    assert fetch.publish(part, tmp_path / "a", lambda p: p.read_bytes().upper()) == b"ABC"
    part.write_bytes(b"bad")

    def refuse(p):
        raise fetch.DownloadError("bad bytes")

    with pytest.raises(fetch.DownloadError, match="bad bytes"):
        fetch.publish(part, tmp_path / "b", refuse, reject_to=tmp_path / "b.rejected")
    assert (
        (tmp_path / "b.rejected").read_bytes() == b"bad"
        and not part.exists()
        and not (tmp_path / "b").exists()
    )
    part.write_bytes(b"bad")
    with pytest.raises(fetch.DownloadError):
        fetch.publish(part, tmp_path / "c", refuse)
    assert not part.exists() and not (tmp_path / "c").exists()


def test_pip_download_command_names_one_archive():
    cmd = fetch.pip_download_command(
        "pkg==1.0",
        "/d",
        "wheel",
        platform="manylinux2014_x86_64",
        index_url="http://127.0.0.1:1/simple/",
    )
    assert cmd[1:4] == ["-m", "pip", "download"] and cmd[-1] == "pkg==1.0" and "--no-deps" in cmd
    assert cmd[cmd.index("--platform") + 1] == "manylinux2014_x86_64" and "--isolated" in cmd
    assert "--no-binary" in fetch.pip_download_command("pkg==1.0", "/d", "sdist")
    with pytest.raises(ValueError, match="dist must be"):
        fetch.pip_download_command("pkg==1.0", "/d", "egg")


def test_package_dir_finds_an_installed_package_without_importing_it():
    import json

    assert fetch.package_dir("json/decoder.py") == fetch.Path(json.__file__).parent / "decoder.py"
    assert (
        fetch.package_dir("json").is_dir()
        and fetch.package_dir("no_such_package_maskaudit") is None
    )
