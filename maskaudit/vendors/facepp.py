"""Face++ (Megvii) through a thin ``requests`` client; ``api_key``/``api_secret`` travel as form fields.

* 1:1 ``POST /facepp/v3/compare`` (multipart ``image_file1``/``image_file2``) -> ``confidence``
  0-100 plus per-response ``thresholds`` at FMR 1e-3/1e-4/1e-5, kept with each score. No face is
  HTTP 200 without ``confidence`` and an empty ``faces1``/``faces2``: a failure to acquire.
* 1:N: FaceSet ``maskaudit-<run id>`` (``faceset/create``), ``detect`` each gallery image for a
  ``face_token``, ``faceset/addface`` five tokens per call, ``search`` (top 5 at most),
  ``faceset/delete check_empty=0`` in ``finally``; ``faceset/getfacesets`` lists them for cleanup.
* Throttling is HTTP **403** ``CONCURRENCY_LIMIT_EXCEEDED`` (not 429); ``INTERNAL_ERROR`` (500) is
  transient. Request bodies hold the secret and are never logged or cached.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from maskaudit.vendors import rest
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

LIMITS = Limits(max_side=4096, max_bytes=2 * 1024 * 1024, min_side=48)
KEY_ENV, SECRET_ENV, ENDPOINT_ENV = "FACEPP_API_KEY", "FACEPP_API_SECRET", "FACEPP_ENDPOINT"
IMAGE_ERRORS = {
    "IMAGE_FILE_TOO_LARGE",
    "INVALID_IMAGE_SIZE",
    "IMAGE_ERROR_UNSUPPORTED_FORMAT",
    "IMAGE_DOWNLOAD_TIMEOUT",
}
TAG = "maskaudit"


class FacePlusPlus(Adapter):
    vendor = "facepp"
    limits = LIMITS
    has_search = True
    max_candidates = 5
    raw_direction = "higher_is_same"

    def __init__(self, settings, client):
        super().__init__(settings, client)
        self.session = rest.session()

    def endpoint(self) -> str:
        return (
            self.settings.get("endpoint")
            or os.environ.get(ENDPOINT_ENV)
            or "https://api-us.faceplusplus.com"
        ).rstrip("/")

    def model_version(self) -> str:
        return "facepp/v3"

    def _post(self, path: str, fields: dict, files: dict | None = None) -> dict:
        data = {
            "api_key": os.environ.get(KEY_ENV, ""),
            "api_secret": os.environ.get(SECRET_ENV, ""),
            **fields,
        }
        r = rest.send(
            self.session,
            "POST",
            f"{self.endpoint()}/facepp/v3/{path}",
            data=data,
            files={k: (f"{k}.jpg", v, "image/jpeg") for k, v in (files or {}).items()},
            timeout=self.settings.get("timeout_s", 60),
        )
        if r.status_code == 413:  # comes as plain text, not JSON
            raise ImageRejected("413 request entity too large", reason="vendor_image_too_large")
        body = rest.json_or_text(r)
        if r.status_code == 200 and "error_message" not in body:
            return body
        message = body.get("error_message", body.get("text", ""))
        if message == "CONCURRENCY_LIMIT_EXCEEDED":
            raise Throttled(f"{r.status_code} {message}", retry_after=rest.retry_after(r))
        if r.status_code >= 500 or message == "INTERNAL_ERROR":
            raise Transient(f"{r.status_code} {message}")
        if r.status_code == 401 or message.startswith(
            ("AUTHENTICATION_ERROR", "AUTHORIZATION_ERROR")
        ):
            raise AuthError(
                f"Face++ refused the key ({r.status_code} {message}). Fix: set {KEY_ENV} and "
                f"{SECRET_ENV} for the region of vendors.facepp.endpoint"
            )
        if message.split(":")[0] in IMAGE_ERRORS:
            raise ImageRejected(f"{r.status_code} {message}")
        raise VendorError(f"Face++ {path}: {r.status_code} {message}")

    # -- 1:1 --------------------------------------------------------------------------------------
    def compare(self, probe: Prepared, reference: Prepared) -> dict:
        def send():
            body = self._post(
                "compare", {}, {"image_file1": probe.data, "image_file2": reference.data}
            )
            if "confidence" not in body:
                sides = [
                    s for s, k in (("probe", "faces1"), ("reference", "faces2")) if not body.get(k)
                ]
                raise NoFace(
                    "compare found no face",
                    side="both" if len(sides) == 2 else (sides or [None])[0],
                )
            return {
                "status": "ok",
                "raw": float(body["confidence"]),
                "thresholds": body.get("thresholds", {}),
                "request_id": body.get("request_id", ""),
            }

        return self.client.call("compare", send, key=self.compare_key(probe, reference))

    def _detect_once(self, image: Prepared) -> dict:
        body = self._post("detect", {}, {"image_file": image.data})
        if not body.get("faces"):
            raise NoFace("detect found no face")
        return {
            "status": "ok",
            "face_token": body["faces"][0]["face_token"],
            "n_faces": len(body["faces"]),
        }

    # -- 1:N --------------------------------------------------------------------------------------
    def search_key(self, probe: Prepared, k: int, digest: str) -> str:
        return self.key("search", {"return_result_count": k}, [probe], gallery=digest)

    @contextmanager
    def gallery(self, run_id: str, items: list[tuple[int, Prepared]], digest: str):
        name = gallery_name(run_id)
        self.client.call(
            "create_gallery",
            lambda: {
                "status": "ok",
                **self._post(
                    "faceset/create", {"outer_id": name, "display_name": name, "tags": TAG}
                ),
            },
        )
        self.client.ledger.gallery_created(self.vendor, name, run_id)
        try:
            gallery = _FacePPGallery(self, name, digest)
            for index, image in items:
                # face_tokens expire: the detect answer is not cached, only a "no face" one would be
                record = self.client.call("detect", lambda image=image: self._detect_once(image))
                gallery.enrolled[index] = record["status"]
                if record["status"] == "ok":
                    gallery.token_to_index[record["face_token"]] = index
            tokens = list(gallery.token_to_index)
            for start in range(0, len(tokens), 5):
                batch = tokens[start : start + 5]
                self.client.call(
                    "enroll",
                    lambda batch=batch: {
                        "status": "ok",
                        **self._post(
                            "faceset/addface", {"outer_id": name, "face_tokens": ",".join(batch)}
                        ),
                    },
                )
            yield gallery
        finally:
            self.delete_gallery(name)

    def _delete_request(self, name: str) -> dict:
        return {
            "status": "ok",
            **self._post("faceset/delete", {"outer_id": name, "check_empty": "0"}),
        }

    def _already_gone(self, exc: VendorError) -> bool:
        return "INVALID_OUTER_ID" in str(exc)

    def list_galleries(self) -> list[str]:
        names, start = [], 1
        while start:
            page = self.client.call(
                "list_galleries",
                lambda start=start: {
                    "status": "ok",
                    **self._post("faceset/getfacesets", {"tags": TAG, "start": str(start)}),
                },
            )
            names += [
                f["outer_id"]
                for f in page.get("facesets", [])
                if f.get("outer_id", "").startswith(GALLERY_PREFIX)
            ]
            start = page.get("next")
        return names


class _FacePPGallery(Gallery):
    def __init__(self, adapter: FacePlusPlus, name: str, digest: str):
        super().__init__(name, digest)
        self.adapter = adapter
        self.token_to_index: dict[str, int] = {}

    def search(self, probe: Prepared, k: int) -> dict:
        a = self.adapter
        k = min(k, a.max_candidates)

        def send():
            body = a._post(
                "search",
                {"outer_id": self.name, "return_result_count": str(k)},
                {"image_file": probe.data},
            )
            if not body.get("faces") or "results" not in body:
                raise NoFace("search found no face in the probe", side="probe")
            cands = [
                [self.token_to_index[c["face_token"]], float(c["confidence"])]
                for c in body["results"]
                if c["face_token"] in self.token_to_index
            ]
            return {"status": "ok", "candidates": cands, "thresholds": body.get("thresholds", {})}

        return a.client.call("search", send, key=a.search_key(probe, k, self.digest))


def credentials_message(settings: dict) -> str | None:
    missing = [v for v in (KEY_ENV, SECRET_ENV) if not os.environ.get(v)]
    return f"missing {', '.join(missing)}" if missing else None
