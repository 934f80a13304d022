"""Fake Face++ v3: multipart forms with api_key/api_secret fields, compare, detect, FaceSets, search.

Limits as documented: images over 2 MB -> 413 plain text; sides outside 48..4096 px -> 400
``INVALID_IMAGE_SIZE``. Throttling is injected by tests as 403 ``CONCURRENCY_LIMIT_EXCEEDED``.
"""

from __future__ import annotations

import io
import uuid

from PIL import Image

from .faces import ORACLE
from .server import FakeServer, Reply

THRESHOLDS = {"1e-3": 62.327, "1e-4": 69.101, "1e-5": 73.975}


def error(status: int, message: str) -> Reply:
    return Reply(
        status, {"error_message": message, "request_id": str(uuid.uuid4()), "time_used": 1}
    )


class FakeFacePP(FakeServer):
    def __init__(self, key: str, secret: str, page_size: int = 2):
        super().__init__()
        self.key, self.secret, self.page_size = key, secret, page_size
        self.tokens: dict[str, object] = {}
        self.facesets: dict[str, dict] = {}
        self.sizes: list[
            tuple[int, int, int]
        ] = []  # (width, height, bytes) of every image received

    def operation(self, req) -> str:
        return req.path.removeprefix("/facepp/v3/")

    def authenticate(self, op, req):
        # the front end refuses oversized bodies as plain text
        if len(req.body) > 2 * (2 * 1024 * 1024) + 65536:
            return Reply(
                413,
                raw=b"<html><body>413 Request Entity Too Large</body></html>",
                content_type="text/html",
            )
        fields, files = req.form()
        req.fields, req.files = fields, files
        if fields.get("api_key") != self.key or fields.get("api_secret") != self.secret:
            return error(401, "AUTHENTICATION_ERROR")
        for data in files.values():
            if len(data) > 2 * 1024 * 1024:
                return error(400, "IMAGE_FILE_TOO_LARGE")
            w, h = Image.open(io.BytesIO(data)).size
            self.sizes.append((w, h, len(data)))
            if not (48 <= min(w, h) and max(w, h) <= 4096):
                return error(400, "INVALID_IMAGE_SIZE: image_file")
        return None

    def handle(self, op, req) -> Reply:
        handler = getattr(self, "op_" + op.replace("/", "_"), None)
        return handler(req.fields, req.files) if handler else error(404, "API_NOT_FOUND")

    def _faces(self, data):
        vec = ORACLE.embedding(data)
        return vec, (
            []
            if vec is None
            else [
                {
                    "face_token": uuid.uuid4().hex,
                    "face_rectangle": {"top": 1, "left": 1, "width": 99, "height": 99},
                }
            ]
        )

    def op_compare(self, fields, files):
        a, faces1 = self._faces(files["image_file1"])
        b, faces2 = self._faces(files["image_file2"])
        body = {
            "request_id": str(uuid.uuid4()),
            "time_used": 5,
            "faces1": faces1,
            "faces2": faces2,
            "image_id1": uuid.uuid4().hex,
            "image_id2": uuid.uuid4().hex,
        }
        if a is not None and b is not None:
            body.update(
                confidence=100.0 * ORACLE.likeness(ORACLE.distance(a, b)), thresholds=THRESHOLDS
            )
        return Reply(200, body)

    def op_detect(self, fields, files):
        vec, faces = self._faces(files["image_file"])
        for f in faces:
            self.tokens[f["face_token"]] = vec
        return Reply(200, {"request_id": str(uuid.uuid4()), "faces": faces, "face_num": len(faces)})

    def op_faceset_create(self, fields, files):
        oid = fields["outer_id"]
        if oid in self.facesets:
            return error(400, "FACESET_EXIST")
        self.facesets[oid] = {
            "tokens": [],
            "tags": fields.get("tags", ""),
            "token": uuid.uuid4().hex,
        }
        return Reply(
            200,
            {
                "faceset_token": self.facesets[oid]["token"],
                "outer_id": oid,
                "face_added": 0,
                "face_count": 0,
                "failure_detail": [],
            },
        )

    def op_faceset_addface(self, fields, files):
        fs = self.facesets.get(fields["outer_id"])
        if fs is None:
            return error(400, "INVALID_OUTER_ID")
        tokens = fields["face_tokens"].split(",")
        if len(tokens) > 5:
            return error(400, "BAD_ARGUMENTS: face_tokens")
        added = [t for t in tokens if t in self.tokens]
        fs["tokens"] += added
        return Reply(
            200,
            {
                "faceset_token": fs["token"],
                "outer_id": fields["outer_id"],
                "face_added": len(added),
                "face_count": len(fs["tokens"]),
                "failure_detail": [
                    {"face_token": t, "reason": "INVALID_FACE_TOKEN"}
                    for t in tokens
                    if t not in self.tokens
                ],
            },
        )

    def op_faceset_delete(self, fields, files):
        if self.facesets.pop(fields["outer_id"], None) is None:
            return error(400, "INVALID_OUTER_ID")
        return Reply(200, {"outer_id": fields["outer_id"]})

    def op_faceset_getfacesets(self, fields, files):
        names = sorted(
            n
            for n, fs in self.facesets.items()
            if not fields.get("tags") or fs["tags"] == fields["tags"]
        )
        start = int(fields.get("start", "1"))
        page = names[start - 1 : start - 1 + self.page_size]
        body = {
            "facesets": [
                {
                    "outer_id": n,
                    "faceset_token": self.facesets[n]["token"],
                    "display_name": n,
                    "tags": self.facesets[n]["tags"],
                }
                for n in page
            ]
        }
        if start - 1 + len(page) < len(names):
            body["next"] = start + len(page)
        return Reply(200, body)

    def op_search(self, fields, files):
        fs = self.facesets.get(fields["outer_id"])
        if fs is None:
            return error(400, "INVALID_OUTER_ID")
        vec, faces = self._faces(files["image_file"])
        if vec is None:
            return Reply(200, {"request_id": str(uuid.uuid4()), "faces": [], "time_used": 3})
        k = int(fields.get("return_result_count", "1"))
        if not 1 <= k <= 5:
            return error(400, "BAD_ARGUMENTS: return_result_count")
        scored = sorted(
            (
                (100.0 * ORACLE.likeness(ORACLE.distance(vec, self.tokens[t])), t)
                for t in fs["tokens"]
            ),
            reverse=True,
        )[:k]
        return Reply(
            200,
            {
                "request_id": str(uuid.uuid4()),
                "faces": faces,
                "thresholds": THRESHOLDS,
                "results": [{"face_token": t, "confidence": c, "user_id": ""} for c, t in scored],
            },
        )
