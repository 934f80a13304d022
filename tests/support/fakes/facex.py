"""Fake FaceX v2 Face Match: ``POST /match_faces`` with ``user_id`` header and ``img_1``/``img_2`` files.

Answers ``{"status": "success", "data": {"distance": d, "result": ...}}``; no face ->
``{"status": "failure", "message": "Face not detected", "image": "img_1"}`` (the schema the adapter
accepts; FaceX's real one is unverified).
"""

from __future__ import annotations

from .faces import ORACLE
from .server import FakeServer, Reply


class FakeFaceX(FakeServer):
    def __init__(self, user_id: str, scorer=None):
        """``scorer(img_1 bytes, img_2 bytes) -> distance``, when given, replaces the face engine (a
        test can make the distance depend on chosen pixels only)."""
        super().__init__()
        self.user_id, self.scorer = user_id, scorer

    def operation(self, req) -> str:
        return req.path.strip("/")

    def authenticate(self, op, req):
        if req.headers.get("user_id") != self.user_id:
            return Reply(401, {"status": "failure", "message": "invalid user_id"})
        return None

    def handle(self, op, req) -> Reply:
        if op != "match_faces":
            return Reply(404, {"status": "failure", "message": "not found"})
        _, files = req.form()
        if self.scorer is not None:
            return Reply(
                200,
                {
                    "status": "success",
                    "data": {"distance": float(self.scorer(files["img_1"], files["img_2"]))},
                },
            )
        a, b = ORACLE.embedding(files["img_1"]), ORACLE.embedding(files["img_2"])
        for name, vec in (("img_1", a), ("img_2", b)):
            if vec is None:
                return Reply(
                    200, {"status": "failure", "message": "Face not detected", "image": name}
                )
        d = ORACLE.distance(a, b)
        return Reply(
            200,
            {
                "status": "success",
                "data": {"distance": d, "result": "MATCH" if d < 0.5 else "NOT A MATCH"},
            },
        )
