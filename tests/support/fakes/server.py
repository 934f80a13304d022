"""A threaded HTTP server on loopback with a request log, injected faults and held operations."""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Reply:
    def __init__(
        self,
        status: int,
        body=None,
        headers: dict | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ):
        self.status, self.body, self.headers, self.raw, self.content_type = (
            status,
            body,
            headers or {},
            raw,
            content_type,
        )

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


class Request:
    def __init__(self, method: str, path: str, headers: dict, body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.query = {}
        if "?" in path:
            from urllib.parse import parse_qsl

            self.path, qs = path.split("?", 1)
            self.query = dict(parse_qsl(qs, keep_blank_values=True))

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> tuple[dict, dict]:
        """Multipart form: ``(fields, files)`` (files as bytes)."""
        ctype = self.headers.get("content-type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qsl

            return dict(parse_qsl(self.body.decode(), keep_blank_values=True)), {}
        boundary = re.search(r'boundary="?([^";]+)"?', ctype).group(1).encode()
        fields, files = {}, {}
        for part in self.body.split(b"--" + boundary)[1:-1]:
            head, _, data = part[2:].partition(b"\r\n\r\n")
            disposition = next(
                line
                for line in head.decode().split("\r\n")
                if line.lower().startswith("content-disposition")
            )
            name = re.search(r'name="([^"]*)"', disposition).group(1)
            data = data[:-2]  # the CRLF before the next boundary
            if "filename=" in disposition:
                files[name] = data
            else:
                fields[name] = data.decode()
        return fields, files


class FakeServer:
    """Subclasses implement ``operation(request) -> str`` and ``handle(op, request) -> Reply``."""

    def __init__(self):
        self.log: list[tuple[str, Request]] = []
        self.faults: dict[str, deque] = defaultdict(deque)
        self.held: dict[str, threading.Event] = {}
        self.arrived: dict[str, threading.Event] = defaultdict(threading.Event)
        self.lock = threading.RLock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = (
                True  # no 40 ms Nagle/delayed-ACK stall per keep-alive request
            )
            wbufsize = -1  # headers and body leave in one write

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                reply = fake.dispatch(req)
                payload = reply.payload()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        for ev in self.held.values():
            ev.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- test controls -----------------------------------------------------------------------------
    def inject(self, op: str, reply: Reply, times: int = 1) -> None:
        with self.lock:
            self.faults[op].extend([reply] * times)

    def hold(self, op: str) -> threading.Event:
        """Block every ``op`` request until the returned event is set."""
        self.held[op] = threading.Event()
        return self.held[op]

    def count(self, op: str | None = None) -> int:
        with self.lock:
            return sum(1 for o, _ in self.log if op is None or o == op)

    def requests(self, op: str) -> list[Request]:
        with self.lock:
            return [r for o, r in self.log if o == op]

    # -- dispatch ----------------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Reply:
        op = self.operation(req)
        with self.lock:
            self.log.append((op, req))
            fault = self.faults[op].popleft() if self.faults[op] else None
        self.arrived[op].set()
        if op in self.held:
            self.held[op].wait(timeout=120)
        if fault is not None:
            return fault
        check = self.authenticate(op, req)
        if check is not None:
            return check
        with self.lock:
            return self.handle(op, req)

    def authenticate(self, op: str, req: Request) -> Reply | None:
        return None

    def operation(self, req: Request) -> str:
        raise NotImplementedError

    def handle(self, op: str, req: Request) -> Reply:
        raise NotImplementedError
