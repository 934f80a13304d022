"""Fake Amazon Rekognition: AWS JSON 1.1 over HTTP, SigV4 verified server-side, stateful collections.

Dispatch on ``X-Amz-Target: RekognitionService.<Operation>``; replies ``application/x-amz-json-1.1``;
errors are HTTP 400 ``{"__type", "message"}``. The signature is recomputed here from the request
(canonical request -> string to sign -> HMAC chain) with the test's secret; a wrong one is rejected
with ``InvalidSignatureException``, an unknown key with ``UnrecognizedClientException``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from .faces import ORACLE
from .server import FakeServer, Reply

MAX_BYTES = 5 * 1024 * 1024


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def expected_signature(req, secret: str) -> tuple[str, str]:
    """``(access key, signature)`` the request should carry, recomputed from its parts (SigV4)."""
    auth = req.headers["authorization"]
    algo, rest = auth.split(" ", 1)
    assert algo == "AWS4-HMAC-SHA256", algo
    parts = dict(p.strip().split("=", 1) for p in rest.split(","))
    access_key, date, region, service, terminal = parts["Credential"].split("/")
    signed = parts["SignedHeaders"].split(";")
    canonical_headers = "".join(f"{h}:{' '.join(req.headers[h].split())}\n" for h in signed)
    canonical = "\n".join(
        [
            "POST" if req.method == "POST" else req.method,
            req.path or "/",
            "",
            canonical_headers,
            ";".join(signed),
            _sha(req.body),
        ]
    )
    scope = f"{date}/{region}/{service}/{terminal}"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", req.headers["x-amz-date"], scope, _sha(canonical.encode())]
    )
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, terminal):
        key = _hmac(key, part)
    return access_key, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _error(kind: str, message: str, status: int = 400) -> Reply:
    return Reply(
        status, {"__type": kind, "message": message}, content_type="application/x-amz-json-1.1"
    )


class FakeRekognition(FakeServer):
    def __init__(self, access_key: str, secret_key: str, page_size: int = 2):
        super().__init__()
        self.access_key, self.secret_key, self.page_size = access_key, secret_key, page_size
        self.collections: dict[str, dict] = {}
        self.signatures_checked = 0

    def operation(self, req) -> str:
        return req.headers.get("x-amz-target", "").split(".")[-1]

    def authenticate(self, op, req):
        if "authorization" not in req.headers:
            return _error(
                "MissingAuthenticationTokenException", "Missing Authentication Token", 403
            )
        access_key, signature = expected_signature(req, self.secret_key)
        if access_key != self.access_key:
            return _error(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        got = req.headers["authorization"].rsplit("Signature=", 1)[1]
        if not hmac.compare_digest(got, signature):
            return _error(
                "InvalidSignatureException",
                "The request signature we calculated does not match.",
                403,
            )
        self.signatures_checked += 1
        return None

    def _image(self, doc: dict, field: str):
        data = base64.b64decode(doc[field]["Bytes"])
        if len(data) > MAX_BYTES:
            return None, _error("ImageTooLargeException", "Image size is too large.")
        return data, None

    def _ok(self, body: dict) -> Reply:
        return Reply(
            200,
            body,
            {"x-amzn-RequestId": str(uuid.uuid4())},
            content_type="application/x-amz-json-1.1",
        )

    def handle(self, op, req) -> Reply:
        doc = req.json()
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return _error("UnknownOperationException", op)
        return handler(doc)

    def op_CompareFaces(self, doc):
        src, err = self._image(doc, "SourceImage")
        if err:
            return err
        tgt, err = self._image(doc, "TargetImage")
        if err:
            return err
        a, b = ORACLE.embedding(src), ORACLE.embedding(tgt)
        if a is None or b is None:
            return _error("InvalidParameterException", "Request has invalid parameters")
        sim = 100.0 * ORACLE.likeness(ORACLE.distance(a, b))
        face = {
            "BoundingBox": {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.25},
            "Confidence": 99.9,
        }
        threshold = doc.get("SimilarityThreshold", 80.0)
        matched = sim >= threshold
        return self._ok(
            {
                "SourceImageFace": face,
                "FaceMatches": [{"Similarity": sim, "Face": face}] if matched else [],
                "UnmatchedFaces": [] if matched else [face],
            }
        )

    def op_DetectFaces(self, doc):
        data, err = self._image(doc, "Image")
        if err:
            return err
        found = ORACLE.embedding(data) is not None
        return self._ok({"FaceDetails": [{"Confidence": 99.0}] if found else []})

    def op_CreateCollection(self, doc):
        cid = doc["CollectionId"]
        if cid in self.collections:
            return _error("ResourceAlreadyExistsException", f"collection {cid} exists")
        self.collections[cid] = {"faces": {}, "tags": doc.get("Tags", {})}
        return self._ok(
            {
                "StatusCode": 200,
                "CollectionArn": f"aws:rekognition:fake:collection/{cid}",
                "FaceModelVersion": "7.0",
            }
        )

    def op_DeleteCollection(self, doc):
        if self.collections.pop(doc["CollectionId"], None) is None:
            return _error("ResourceNotFoundException", "The collection id does not exist")
        return self._ok({"StatusCode": 200})

    def op_ListCollections(self, doc):
        names = sorted(self.collections)
        start = int(doc.get("NextToken", "0"))
        page = names[start : start + min(self.page_size, doc.get("MaxResults", 1000))]
        body = {"CollectionIds": page, "FaceModelVersions": ["7.0"] * len(page)}
        if start + len(page) < len(names):
            body["NextToken"] = str(start + len(page))
        return self._ok(body)

    def op_IndexFaces(self, doc):
        col = self.collections.get(doc["CollectionId"])
        if col is None:
            return _error("ResourceNotFoundException", "The collection id does not exist")
        data, err = self._image(doc, "Image")
        if err:
            return err
        vec = ORACLE.embedding(data)
        if vec is None:
            return self._ok({"FaceRecords": [], "UnindexedFaces": [], "FaceModelVersion": "7.0"})
        face_id = str(uuid.uuid4())
        col["faces"][face_id] = (doc.get("ExternalImageId", ""), vec)
        face = {
            "FaceId": face_id,
            "ExternalImageId": doc.get("ExternalImageId", ""),
            "Confidence": 99.9,
        }
        return self._ok(
            {
                "FaceRecords": [{"Face": face, "FaceDetail": {"Confidence": 99.9}}],
                "FaceModelVersion": "7.0",
            }
        )

    def op_SearchFacesByImage(self, doc):
        col = self.collections.get(doc["CollectionId"])
        if col is None:
            return _error("ResourceNotFoundException", "The collection id does not exist")
        data, err = self._image(doc, "Image")
        if err:
            return err
        vec = ORACLE.embedding(data)
        if vec is None:
            return _error(
                "InvalidParameterException",
                "There are no faces in the image. Should be at least 1.",
            )
        threshold = doc.get("FaceMatchThreshold", 80.0)
        matches = sorted(
            (
                (100.0 * ORACLE.likeness(ORACLE.distance(vec, v)), fid, ext)
                for fid, (ext, v) in col["faces"].items()
            ),
            reverse=True,
        )
        out = [
            {"Similarity": s, "Face": {"FaceId": fid, "ExternalImageId": ext}}
            for s, fid, ext in matches
            if s >= threshold
        ][: doc.get("MaxFaces", 4096)]
        return self._ok(
            {"FaceMatches": out, "FaceModelVersion": "7.0", "SearchedFaceConfidence": 99.9}
        )
