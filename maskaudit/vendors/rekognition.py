"""Amazon Rekognition through boto3 (credentials from the standard AWS chain, never from config).

* 1:1 ``CompareFaces`` with ``SimilarityThreshold=0`` so every pair returns a ``Similarity`` (faces
  below the threshold would land in ``UnmatchedFaces`` without one) and ``QualityFilter=NONE``.
  No face on either side comes back as ``InvalidParameterException`` without saying which side;
  :meth:`detect` (``DetectFaces``, cached per image) tells them apart.
* 1:N: a collection ``maskaudit-<run id>`` (tagged), ``IndexFaces`` per gallery image
  (``MaxFaces=1``, ``QualityFilter=NONE``: the default ``AUTO`` silently drops faces),
  ``SearchFacesByImage`` (``FaceMatchThreshold=0``), ``DeleteCollection`` in ``finally``.
* botocore's own retries are off (``total_max_attempts=1``): every attempt goes through the wrapper,
  which retries on ``ThrottlingException`` / ``ProvisionedThroughputExceededException`` and charges
  each attempt to the budget.
* botocore enforces neither the 5 MB limit nor the threshold range: :data:`LIMITS` does.
"""

from __future__ import annotations

from contextlib import contextmanager

from maskaudit.vendors.base import GALLERY_PREFIX, Adapter, Gallery, gallery_name
from maskaudit.vendors.errors import (
    AuthError,
    ImageRejected,
    NoFace,
    Throttled,
    Transient,
    VendorError,
)
from maskaudit.vendors.images import Limits, Prepared

LIMITS = Limits(max_side=4096, max_bytes=5 * 1024 * 1024, min_side=80)
THROTTLE = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "TooManyRequestsException",
}
AUTH = {
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
}


def _safe_external_id(index: int) -> str:
    return f"g{index}"


class Rekognition(Adapter):
    vendor = "rekognition"
    limits = LIMITS
    has_search = True
    max_candidates = 4096
    raw_direction = "higher_is_same"

    def __init__(self, settings, client, boto_client=None):
        super().__init__(settings, client)
        self._boto = boto_client

    @property
    def boto(self):
        if self._boto is None:
            import boto3
            from botocore.config import Config

            # a fresh session per adapter: boto3's default session caches credentials for the process
            self._boto = boto3.session.Session().client(
                "rekognition",
                region_name=self.settings["region"],
                endpoint_url=self.settings.get("endpoint_url"),
                config=Config(
                    retries={"total_max_attempts": 1},
                    connect_timeout=10,
                    read_timeout=self.settings.get("timeout_s", 60),
                ),
            )
        return self._boto

    def endpoint(self) -> str:
        return f"{self.settings['region']}|{self.settings.get('endpoint_url') or 'aws'}"

    def model_version(self) -> str:
        # CompareFaces reports no version and always uses the current model; collections report theirs
        # (recorded in the sidecar). The configured label lets a study start a fresh cache generation.
        return self.settings.get("model_label", "current")

    def _send(self, operation: str, **kwargs) -> dict:
        from botocore.exceptions import (
            ClientError,
            HTTPClientError,
        )
        from botocore.exceptions import (
            ConnectionError as BotoConnectionError,
        )

        try:
            response = getattr(self.boto, operation)(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code, message = err.get("Code", ""), err.get("Message", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in THROTTLE:
                raise Throttled(f"{code}: {message}") from None
            if code in AUTH:
                raise AuthError(
                    f"Rekognition refused the credentials ({code}): {message}. Fix: check the AWS "
                    f"credential chain (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the "
                    f"IAM permissions listed in config/README.md"
                ) from None
            if code == "InvalidParameterException":
                raise NoFace(f"{code}: {message}") from None
            if code in ("ImageTooLargeException", "InvalidImageFormatException"):
                raise ImageRejected(f"{code}: {message}", reason="vendor_image_rejected") from None
            if code in ("InternalServerError", "ServiceUnavailableException") or status >= 500:
                raise Transient(f"{code or status}: {message}") from None
            raise VendorError(f"Rekognition {operation}: {code}: {message}") from None
        except (BotoConnectionError, HTTPClientError) as exc:
            raise Transient(f"connection problem: {type(exc).__name__}") from None
        response.pop("ResponseMetadata", None)
        return response

    # -- 1:1 --------------------------------------------------------------------------------------
    COMPARE_PARAMS = {"SimilarityThreshold": 0.0, "QualityFilter": "NONE"}

    def compare_key(self, probe: Prepared, reference: Prepared) -> str:
        return self.key("compare", self.COMPARE_PARAMS, [probe, reference])

    def compare(self, probe: Prepared, reference: Prepared) -> dict:
        params = self.COMPARE_PARAMS

        def send():
            r = self._send(
                "compare_faces",
                SourceImage={"Bytes": probe.data},
                TargetImage={"Bytes": reference.data},
                **params,
            )
            matches = r.get("FaceMatches", [])
            # with threshold 0 every target face is a match; none means no face found
            if not matches:
                raise NoFace("CompareFaces returned no face match", side="reference")
            return {
                "status": "ok",
                "raw": max(float(m["Similarity"]) for m in matches),
                "n_target_faces": len(matches) + len(r.get("UnmatchedFaces", [])),
            }

        return self.client.call("compare", send, key=self.compare_key(probe, reference))

    def detect(self, image: Prepared) -> dict:
        def send():
            r = self._send("detect_faces", Image={"Bytes": image.data}, Attributes=["DEFAULT"])
            if not r.get("FaceDetails"):
                raise NoFace("DetectFaces found no face")
            return {"status": "ok", "n_faces": len(r["FaceDetails"])}

        return self.client.call("detect", send, key=self.key("detect", {}, [image]))

    # -- 1:N --------------------------------------------------------------------------------------
    def search_key(self, probe: Prepared, k: int, digest: str) -> str:
        return self.key(
            "search",
            {"MaxFaces": k, "FaceMatchThreshold": 0.0, "QualityFilter": "NONE"},
            [probe],
            gallery=digest,
        )

    @contextmanager
    def gallery(self, run_id: str, items: list[tuple[int, Prepared]], digest: str):
        name = gallery_name(run_id)
        self.client.call(
            "create_gallery",
            lambda: {
                "status": "ok",
                **self._send(
                    "create_collection", CollectionId=name, Tags={"maskaudit-run": run_id}
                ),
            },
        )
        self.client.ledger.gallery_created(self.vendor, name, run_id)
        try:
            gallery = _RekognitionGallery(self, name, digest)
            for index, image in items:
                gallery.enroll(index, image)
            yield gallery
        finally:
            self.delete_gallery(name)

    def _delete_request(self, name: str) -> dict:
        return {"status": "ok", **self._send("delete_collection", CollectionId=name)}

    def _already_gone(self, exc: VendorError) -> bool:
        return "ResourceNotFoundException" in str(exc)

    def list_galleries(self) -> list[str]:
        names, token = [], None
        while True:
            kwargs = {"MaxResults": 100, **({"NextToken": token} if token else {})}
            page = self.client.call(
                "list_galleries",
                lambda: {"status": "ok", **self._send("list_collections", **kwargs)},
            )
            names += [c for c in page.get("CollectionIds", []) if c.startswith(GALLERY_PREFIX)]
            token = page.get("NextToken")
            if not token:
                return names


class _RekognitionGallery(Gallery):
    def __init__(self, adapter: Rekognition, name: str, digest: str):
        super().__init__(name, digest)
        self.adapter = adapter
        self.face_to_index: dict[str, int] = {}
        self.face_model_version = ""

    def enroll(self, index: int, image: Prepared) -> None:
        a = self.adapter

        def send():
            r = a._send(
                "index_faces",
                CollectionId=self.name,
                Image={"Bytes": image.data},
                ExternalImageId=_safe_external_id(index),
                MaxFaces=1,
                QualityFilter="NONE",
                DetectionAttributes=["DEFAULT"],
            )
            records = r.get("FaceRecords", [])
            if not records:
                reasons = sorted(
                    {x for u in r.get("UnindexedFaces", []) for x in u.get("Reasons", [])}
                )
                raise NoFace(
                    f"IndexFaces indexed no face (reasons: {', '.join(reasons) or 'none given'})"
                )
            return {
                "status": "ok",
                "face_id": records[0]["Face"]["FaceId"],
                "face_model_version": r.get("FaceModelVersion", ""),
            }

        record = a.client.call("enroll", send)
        self.enrolled[index] = record["status"]
        if record["status"] == "ok":
            self.face_to_index[record["face_id"]] = index
            self.face_model_version = record.get("face_model_version", "")

    def search(self, probe: Prepared, k: int) -> dict:
        a = self.adapter
        k = min(k, a.max_candidates)

        def send():
            r = a._send(
                "search_faces_by_image",
                CollectionId=self.name,
                Image={"Bytes": probe.data},
                MaxFaces=k,
                FaceMatchThreshold=0.0,
                QualityFilter="NONE",
            )
            cands = [
                [self.face_to_index[m["Face"]["FaceId"]], float(m["Similarity"])]
                for m in r.get("FaceMatches", [])
                if m["Face"]["FaceId"] in self.face_to_index
            ]
            return {
                "status": "ok",
                "candidates": cands,
                "face_model_version": r.get("FaceModelVersion", ""),
            }

        return a.client.call("search", send, key=a.search_key(probe, k, self.digest))


def credentials_message(settings: dict) -> str | None:
    """``None`` when the AWS chain yields credentials (checked locally, without calling AWS)."""
    import botocore.session

    session = botocore.session.Session()
    try:
        creds = session.get_credentials()
    except Exception as exc:  # a broken profile file is a configuration problem, not a crash
        return f"the AWS credential chain failed: {type(exc).__name__}"
    if creds is None:
        return (
            "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or configure ~/.aws/credentials)"
        )
    return None
