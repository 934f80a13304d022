"""Microsoft Azure AI Face over plain REST (key in the ``Ocp-Apim-Subscription-Key`` header).

* 1:1: ``detect`` each image (``detection_03`` / ``recognition_04`` pinned, ``returnFaceId=true``)
  then ``verify {faceId1, faceId2}`` -> ``confidence`` in [0, 1] (``isIdentical`` iff >= 0.5).
  ``faceId`` values expire (TTL), so they are kept only for the job; the *verify* answer is cached by
  image content, and a "no face" detect answer is cached (it is deterministic), a faceId is not.
* 1:N: ``LargePersonGroup`` ``maskaudit-<run id>`` with one person per gallery image, ``train`` and
  poll, ``identify`` one probe per call (candidates up to ``top_k``), ``DELETE`` in ``finally``.
* Errors: 429 (+ ``Retry-After``) is the throttle signal; 403 with inner code ``UnsupportedFeature``
  is Limited Access: the account is not approved for identification/verification, which becomes the
  ``vendor_unavailable`` state, not a crash; 401 is an authentication error.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager

from maskaudit.vendors import rest
from maskaudit.vendors.base import GALLERY_PREFIX, Adapter, Gallery, gallery_name
from maskaudit.vendors.errors import (
    AuthError,
    ImageRejected,
    NoFace,
    Throttled,
    Transient,
    Unavailable,
    VendorError,
)
from maskaudit.vendors.images import Limits, Prepared

LIMITS = Limits(max_side=1920, max_bytes=6 * 1024 * 1024, min_side=36)
KEY_ENV, ENDPOINT_ENV = "FACE_APIKEY", "FACE_ENDPOINT"
NO_FACE_CODES = {"InvalidImage", "NoFaceDetected"}  # persistedfaces on an image without a face


class Azure(Adapter):
    vendor = "azure"
    limits = LIMITS
    has_search = True
    max_candidates = 100
    raw_direction = "higher_is_same"

    def __init__(self, settings, client):
        super().__init__(settings, client)
        self.session = rest.session()
        self._face_ids: dict[str, str] = {}  # image sha256 -> faceId, this job only

    def endpoint(self) -> str:
        return (self.settings.get("endpoint") or os.environ.get(ENDPOINT_ENV, "")).rstrip("/")

    def model_version(self) -> str:
        s = self.settings
        return f"{s['api_version']}|{s['detection_model']}|{s['recognition_model']}"

    def _url(self, path: str) -> str:
        return f"{self.endpoint()}/face/{self.settings['api_version']}/{path}"

    def _request(self, method: str, path: str, *, params=None, json=None, data=None):
        headers = {"Ocp-Apim-Subscription-Key": os.environ.get(KEY_ENV, "")}
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        r = rest.send(
            self.session,
            method,
            self._url(path),
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=self.settings.get("timeout_s", 60),
        )
        if r.status_code < 300:
            return r
        body = rest.json_or_text(r)
        err = body.get("error", {}) if isinstance(body, dict) else {}
        code, message = (
            err.get("code", ""),
            err.get("message", body.get("text", "") if isinstance(body, dict) else ""),
        )
        inner = (err.get("innererror") or {}).get("code", "")
        if r.status_code == 429:
            raise Throttled(f"429 {code}: {message}", retry_after=rest.retry_after(r))
        if r.status_code == 403 and inner == "UnsupportedFeature":
            raise Unavailable(
                "Azure Face refused this resource under Limited Access (403 UnsupportedFeature): "
                "identification/verification need Microsoft's approval "
                "(https://aka.ms/facerecognition). Azure is recorded as unavailable"
            )
        if r.status_code in (401, 403):
            raise AuthError(
                f"Azure Face refused the key ({r.status_code} {code}): {message}. Fix: set {KEY_ENV} "
                f"and {ENDPOINT_ENV} (or vendors.azure.endpoint) for a Face resource"
            )
        if r.status_code >= 500:
            raise Transient(f"{r.status_code} {code}: {message}")
        if r.status_code == 404:
            raise VendorError(f"404 {code}: {message}")
        if code in NO_FACE_CODES:
            raise NoFace(f"{code}: {message}")
        if code in ("InvalidImageSize", "InvalidImageFormat") or r.status_code == 413:
            raise ImageRejected(f"{r.status_code} {code}: {message}")
        raise VendorError(f"Azure Face {method} {path}: {r.status_code} {code}: {message}")

    # -- 1:1 --------------------------------------------------------------------------------------
    def _detect_params(self) -> dict:
        s = self.settings
        return {
            "detectionModel": s["detection_model"],
            "recognitionModel": s["recognition_model"],
            "returnFaceId": "true",
            "returnRecognitionModel": "true",
            "faceIdTimeToLive": str(s.get("face_id_ttl_s", 3600)),
        }

    def detect(self, image: Prepared) -> dict:
        """Detect once per image per job. Only the deterministic "no face" answer is cached."""
        if image.sha256 in self._face_ids:
            return {"status": "ok", "face_id": self._face_ids[image.sha256]}
        params = self._detect_params()
        key = self._detect_key(image)

        def send():
            faces = self._request("POST", "detect", params=params, data=image.data).json()
            if not faces:
                raise NoFace("detect returned no face")
            largest = max(
                faces, key=lambda f: f["faceRectangle"]["width"] * f["faceRectangle"]["height"]
            )
            return {
                "status": "ok",
                "face_id": largest["faceId"],
                "n_faces": len(faces),
                "recognition_model": largest.get("recognitionModel", ""),
            }

        record = self.client.call("detect", send, key=key, cache_if=lambda r: r["status"] != "ok")
        if record["status"] == "ok":
            self._face_ids[image.sha256] = record["face_id"]
        return record

    def _detect_key(self, image: Prepared) -> str:
        params = {k: v for k, v in self._detect_params().items() if k != "faceIdTimeToLive"}
        return self.key("detect", params, [image])

    def known_failure(self, images: dict) -> dict | None:
        """A cached "no face" detect answer for any side: the comparison fails without a request."""
        failed = {
            side: rec
            for side, img in images.items()
            if (rec := self.client.cache.get(self._detect_key(img))) is not None
            and rec["status"] != "ok"
        }
        if not failed:
            return None
        self.client.counters.cached += 1
        side = next(iter(failed)) if len(failed) == 1 else "both"
        return {
            "status": next(iter(failed.values()))["status"],
            "side": side,
            "detail": "detect found no face",
        }

    def compare_key(self, probe: Prepared, reference: Prepared) -> str:
        return self.key("verify", {}, [probe, reference])

    def compare_calls(self, probe: Prepared, reference: Prepared, detected: set) -> dict[str, int]:
        """Detect each image not yet detected in this job, then verify: at most 3 requests, 1 once the
        reference is detected (a copy without a face costs its detect only: an upper bound)."""
        if self.client.cache.contains(self.compare_key(probe, reference)) or any(
            (rec := self.client.cache.get(self._detect_key(img))) is not None
            and rec["status"] != "ok"
            for img in (probe, reference)
        ):
            return {}
        new = {img.sha256 for img in (probe, reference)} - detected - set(self._face_ids)
        detected |= new
        return {"detect": len(new), "compare": 1} if new else {"compare": 1}

    def compare(self, probe: Prepared, reference: Prepared) -> dict:
        key = self.compare_key(probe, reference)
        hit = self.client.cached(key)
        if hit is not None:
            return hit
        known = self.known_failure({"probe": probe, "reference": reference})
        if known is not None:
            return known
        sides = {"probe": self.detect(probe), "reference": self.detect(reference)}
        failed = [side for side, rec in sides.items() if rec["status"] != "ok"]
        if failed:
            side = failed[0] if len(failed) == 1 else "both"
            return {
                "status": sides[failed[0]]["status"],
                "side": side,
                "detail": "detect found no face",
            }

        def send():
            body = self._request(
                "POST",
                "verify",
                json={
                    "faceId1": sides["probe"]["face_id"],
                    "faceId2": sides["reference"]["face_id"],
                },
            ).json()
            return {
                "status": "ok",
                "raw": float(body["confidence"]),
                "is_identical": bool(body["isIdentical"]),
            }

        return self.client.call("compare", send, key=key)

    # -- 1:N --------------------------------------------------------------------------------------
    def search_key(self, probe: Prepared, k: int, digest: str) -> str:
        return self.key(
            "identify",
            {"maxNumOfCandidatesReturned": k, "confidenceThreshold": 0.0},
            [probe],
            gallery=digest,
        )

    def search_resolved(self, probe: Prepared, k: int, digest: str) -> bool:
        return super().search_resolved(probe, k, digest) or (
            (rec := self.client.cache.get(self._detect_key(probe))) is not None
            and rec["status"] != "ok"
        )

    @contextmanager
    def gallery(self, run_id: str, items: list[tuple[int, Prepared]], digest: str):
        name = gallery_name(run_id)
        self.client.call(
            "create_gallery",
            lambda: self._ok(
                self._request(
                    "PUT",
                    f"largepersongroups/{name}",
                    json={
                        "name": name,
                        "userData": f"maskaudit run {run_id}",
                        "recognitionModel": self.settings["recognition_model"],
                    },
                )
            ),
        )
        self.client.ledger.gallery_created(self.vendor, name, run_id)
        try:
            gallery = _AzureGallery(self, name, digest)
            for index, image in items:
                gallery.enroll(index, image)
            gallery.train()
            yield gallery
        finally:
            self.delete_gallery(name)

    @staticmethod
    def _ok(_response) -> dict:
        return {"status": "ok"}

    def _delete_request(self, name: str) -> dict:
        return self._ok(self._request("DELETE", f"largepersongroups/{name}"))

    def _already_gone(self, exc: VendorError) -> bool:
        return str(exc).startswith("404")

    def list_galleries(self) -> list[str]:
        names, start, top = [], None, int(self.settings.get("page_size", 1000))
        while True:  # paged by ``start`` (the last id seen) and ``top``
            params = {"top": str(top), **({"start": start} if start else {})}
            page = self.client.call(
                "list_galleries",
                lambda: {
                    "status": "ok",
                    "groups": self._request("GET", "largepersongroups", params=params).json(),
                },
            )
            groups = page["groups"]
            names += [
                g["largePersonGroupId"]
                for g in groups
                if g["largePersonGroupId"].startswith(GALLERY_PREFIX)
            ]
            if len(groups) < top:
                return names
            start = groups[-1]["largePersonGroupId"]


class _AzureGallery(Gallery):
    def __init__(self, adapter: Azure, name: str, digest: str):
        super().__init__(name, digest)
        self.adapter = adapter
        self.person_to_index: dict[str, int] = {}

    def enroll(self, index: int, image: Prepared) -> None:
        a = self.adapter
        person = a.client.call(
            "add_person",
            lambda: {
                "status": "ok",
                **a._request(
                    "POST", f"largepersongroups/{self.name}/persons", json={"name": f"g{index}"}
                ).json(),
            },
        )
        record = a.client.call(
            "enroll",
            lambda: {
                "status": "ok",
                **a._request(
                    "POST",
                    f"largepersongroups/{self.name}/persons/{person['personId']}/persistedfaces",
                    params={"detectionModel": a.settings["detection_model"]},
                    data=image.data,
                ).json(),
            },
        )
        self.enrolled[index] = record["status"]
        if record["status"] == "ok":
            self.person_to_index[person["personId"]] = index

    def train(self) -> None:
        a = self.adapter
        a.client.call(
            "train", lambda: a._ok(a._request("POST", f"largepersongroups/{self.name}/train"))
        )
        deadline = time.monotonic() + a.settings.get("train_timeout_s", 600)
        while True:
            state = a.client.call("training_status", lambda: self._training_state())
            if state["training"] == "succeeded":
                return
            if state["training"] == "failed":
                raise VendorError(
                    f"Azure training of {self.name} failed: {state.get('message', '')}"
                )
            if time.monotonic() > deadline:
                raise VendorError(f"Azure training of {self.name} did not finish in time")
            a.client.sleep(a.settings.get("train_poll_s", 1.0))

    def _training_state(self) -> dict:
        body = self.adapter._request("GET", f"largepersongroups/{self.name}/training").json()
        return {
            "status": "ok",
            "training": body.get("status", ""),
            "message": body.get("message", ""),
        }

    def search(self, probe: Prepared, k: int) -> dict:
        a = self.adapter
        k = min(k, a.max_candidates)
        key = a.search_key(probe, k, self.digest)
        hit = a.client.cached(key)
        if hit is not None:
            return hit
        known = a.known_failure({"probe": probe})
        if known is not None:
            return known
        det = a.detect(probe)
        if det["status"] != "ok":
            return {**det, "side": "probe"}

        def send():
            body = a._request(
                "POST",
                "identify",
                json={
                    "largePersonGroupId": self.name,
                    "faceIds": [det["face_id"]],
                    "maxNumOfCandidatesReturned": k,
                    "confidenceThreshold": 0.0,
                },
            ).json()
            cands = [
                [self.person_to_index[c["personId"]], float(c["confidence"])]
                for c in body[0].get("candidates", [])
                if c["personId"] in self.person_to_index
            ]
            return {"status": "ok", "candidates": cands}

        return a.client.call("search", send, key=key)


def credentials_message(settings: dict) -> str | None:
    missing = [v for v in (KEY_ENV,) if not os.environ.get(v)]
    if not (settings.get("endpoint") or os.environ.get(ENDPOINT_ENV)):
        missing.append(f"{ENDPOINT_ENV} (or vendors.azure.endpoint)")
    return f"missing {', '.join(missing)}" if missing else None
