"""Fake Azure AI Face REST: key header, detect/verify, LargePersonGroup lifecycle, identify, paging.

``limited_access=True`` answers verify/identify and ``returnFaceId=true`` detects with the Limited
Access refusal (403, inner code ``UnsupportedFeature``) that unapproved accounts get.
"""

from __future__ import annotations

import re
import uuid

from .faces import ORACLE
from .server import FakeServer, Reply

ROUTES = [
    ("POST", r"detect", "detect"),
    ("POST", r"verify", "verify"),
    ("POST", r"identify", "identify"),
    ("GET", r"largepersongroups", "list_groups"),
    ("PUT", r"largepersongroups/(?P<g>[^/]+)", "create_group"),
    ("DELETE", r"largepersongroups/(?P<g>[^/]+)", "delete_group"),
    ("POST", r"largepersongroups/(?P<g>[^/]+)/persons", "create_person"),
    ("POST", r"largepersongroups/(?P<g>[^/]+)/persons/(?P<p>[^/]+)/persistedfaces", "add_face"),
    ("POST", r"largepersongroups/(?P<g>[^/]+)/train", "train"),
    ("GET", r"largepersongroups/(?P<g>[^/]+)/training", "training"),
]


def error(status: int, code: str, message: str, inner: str | None = None, headers=None) -> Reply:
    err = {"code": code, "message": message}
    if inner:
        err["innererror"] = {"code": inner, "message": message}
    return Reply(status, {"error": err}, headers)


class FakeAzure(FakeServer):
    def __init__(self, key: str, api_version: str = "v1.0", limited_access: bool = False):
        super().__init__()
        self.key, self.api_version, self.limited_access = key, api_version, limited_access
        self.face_ids: dict[str, object] = {}
        self.groups: dict[str, dict] = {}

    def operation(self, req) -> str:
        prefix = f"/face/{self.api_version}/"
        if not req.path.startswith(prefix):
            return "unknown"
        rest = req.path[len(prefix) :]
        for method, pattern, name in ROUTES:
            m = re.fullmatch(pattern, rest)
            if m and req.method == method:
                req.route = m.groupdict()
                return name
        return "unknown"

    def authenticate(self, op, req):
        if req.headers.get("ocp-apim-subscription-key") != self.key:
            return error(
                401, "401", "Access denied due to invalid subscription key or wrong API endpoint."
            )
        return None

    def handle(self, op, req) -> Reply:
        if op == "unknown":
            return error(404, "NotFound", "Resource not found")
        return getattr(self, f"op_{op}")(req)

    def op_detect(self, req):
        q = req.query
        if self.limited_access and q.get("returnFaceId") == "true":
            return error(
                403, "InvalidRequest", "Invalid request has been sent.", "UnsupportedFeature"
            )
        if req.headers.get("content-type") != "application/octet-stream":
            return error(415, "BadArgument", "Unsupported media type")
        vec = ORACLE.embedding(req.body)
        if vec is None:
            return Reply(200, [])
        fid = str(uuid.uuid4())
        self.face_ids[fid] = vec
        return Reply(
            200,
            [
                {
                    "faceId": fid,
                    "recognitionModel": q.get("recognitionModel", "recognition_01"),
                    "faceRectangle": {"top": 10, "left": 10, "width": 100, "height": 100},
                }
            ],
        )

    def op_verify(self, req):
        if self.limited_access:
            return error(
                403, "InvalidRequest", "Invalid request has been sent.", "UnsupportedFeature"
            )
        body = req.json()
        a, b = self.face_ids.get(body["faceId1"]), self.face_ids.get(body["faceId2"])
        if a is None or b is None:
            return error(400, "FaceNotFound", "Face is not found.")
        conf = ORACLE.likeness(ORACLE.distance(a, b))
        return Reply(200, {"isIdentical": conf >= 0.5, "confidence": conf})

    def op_list_groups(self, req):
        names = sorted(self.groups)
        start = req.query.get("start")
        if start:
            names = [n for n in names if n > start]
        top = int(req.query.get("top", 1000))
        return Reply(
            200, [{"largePersonGroupId": n, "name": n, "userData": ""} for n in names[:top]]
        )

    def op_create_group(self, req):
        g = req.route["g"]
        if g in self.groups:
            return error(409, "LargePersonGroupExists", "Large person group already exists.")
        self.groups[g] = {
            "persons": {},
            "trained": False,
            "model": req.json().get("recognitionModel"),
        }
        return Reply(200, None)

    def op_delete_group(self, req):
        if self.groups.pop(req.route["g"], None) is None:
            return error(404, "LargePersonGroupNotFound", "Large person group is not found.")
        return Reply(200, None)

    def op_create_person(self, req):
        group = self.groups.get(req.route["g"])
        if group is None:
            return error(404, "LargePersonGroupNotFound", "Large person group is not found.")
        pid = str(uuid.uuid4())
        group["persons"][pid] = []
        return Reply(200, {"personId": pid})

    def op_add_face(self, req):
        group = self.groups.get(req.route["g"])
        if group is None or req.route["p"] not in group["persons"]:
            return error(404, "PersonNotFound", "Person is not found.")
        vec = ORACLE.embedding(req.body)
        if vec is None:
            return error(
                400,
                "InvalidImage",
                "No face detected in the image or the specified targetFace area.",
            )
        group["persons"][req.route["p"]].append(vec)
        group["trained"] = False
        return Reply(200, {"persistedFaceId": str(uuid.uuid4())})

    def op_train(self, req):
        group = self.groups.get(req.route["g"])
        if group is None:
            return error(404, "LargePersonGroupNotFound", "Large person group is not found.")
        group["trained"] = "running"
        return Reply(202, None)

    def op_training(self, req):
        group = self.groups.get(req.route["g"])
        if group is None:
            return error(404, "LargePersonGroupNotFound", "Large person group is not found.")
        status = (
            "running"
            if group["trained"] == "running"
            else ("succeeded" if group["trained"] else "notstarted")
        )
        if group["trained"] == "running":
            group["trained"] = True  # one poll later it is done
        return Reply(200, {"status": status, "createdDateTime": "2026-01-01T00:00:00Z"})

    def op_identify(self, req):
        if self.limited_access:
            return error(
                403, "InvalidRequest", "Invalid request has been sent.", "UnsupportedFeature"
            )
        body = req.json()
        group = self.groups.get(body["largePersonGroupId"])
        if group is None:
            return error(404, "LargePersonGroupNotFound", "Large person group is not found.")
        if group["trained"] is not True:
            return error(409, "LargePersonGroupNotTrained", "Large person group not trained.")
        out = []
        for fid in body["faceIds"]:
            vec = self.face_ids[fid]
            cands = sorted(
                (
                    (max(ORACLE.likeness(ORACLE.distance(vec, v)) for v in faces), pid)
                    for pid, faces in group["persons"].items()
                    if faces
                ),
                reverse=True,
            )
            cands = [c for c in cands if c[0] >= body.get("confidenceThreshold", 0.5)]
            out.append(
                {
                    "faceId": fid,
                    "candidates": [
                        {"personId": p, "confidence": c}
                        for c, p in cands[: body.get("maxNumOfCandidatesReturned", 10)]
                    ],
                }
            )
        return Reply(200, out)
