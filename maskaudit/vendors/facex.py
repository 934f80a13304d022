"""FaceX (facexapi.com) Face Match through a thin ``requests`` client. Schema partly unverified.

* 1:1 ``POST {base}/match_faces`` with multipart ``img_1``/``img_2`` and the ``user_id`` header
  (plus ``user_key`` for v1 accounts): a Euclidean **distance**, *lower* = same, match iff < 0.5. The
  similarity the audit uses is ``-distance``. The response field is read as ``distance`` at the top
  level or under ``data``; a body saying no face was found is a failure to acquire. FaceX's public
  documentation does not pin these fields down (see ``shared/reference/commercial-apis.md``), so
  anything else is an error that names the body's keys, never a guessed score.
* No 1:N here: FaceX sells its Search API separately, so identification for FaceX comes from a full
  probe x gallery matrix of 1:1 calls when the budget allows, and is otherwise reported as not run.
* The base URL must be ``https://`` (plain HTTP only for a loopback test server). 429 is treated as
  the throttle signal [unverified].
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from maskaudit.vendors import rest
from maskaudit.vendors.base import Adapter
from maskaudit.vendors.errors import (
    AuthError,
    ImageRejected,
    NoFace,
    Throttled,
    Transient,
    VendorError,
)
from maskaudit.vendors.images import Limits, Prepared

LIMITS = Limits(max_side=1024, max_bytes=5 * 1024 * 1024, min_side=48)
USER_ENV, KEY_ENV, BASE_ENV = "FACEX_USER_ID", "FACEX_USER_KEY", "FACEX_BASE_URL"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def base_url(settings: dict) -> str:
    return (settings.get("base_url") or os.environ.get(BASE_ENV, "")).rstrip("/")


class FaceX(Adapter):
    vendor = "facex"
    limits = LIMITS
    has_search = False
    raw_direction = "lower_is_same"

    def __init__(self, settings, client):
        super().__init__(settings, client)
        self.session = rest.session()

    def endpoint(self) -> str:
        return base_url(self.settings)

    def model_version(self) -> str:
        return "match_faces"

    def compare(self, probe: Prepared, reference: Prepared) -> dict:
        def send():
            headers = {"user_id": os.environ.get(USER_ENV, "")}
            if os.environ.get(KEY_ENV):
                headers["user_key"] = os.environ[KEY_ENV]
            r = rest.send(
                self.session,
                "POST",
                f"{self.endpoint()}/match_faces",
                headers=headers,
                files={
                    "img_1": ("img_1.jpg", probe.data, "image/jpeg"),
                    "img_2": ("img_2.jpg", reference.data, "image/jpeg"),
                },
                timeout=self.settings.get("timeout_s", 60),
            )
            body = rest.json_or_text(r)
            message = str(body.get("message", body.get("error", body.get("text", ""))))
            if r.status_code == 429:
                raise Throttled(f"429 {message}", retry_after=rest.retry_after(r))
            if r.status_code >= 500:
                raise Transient(f"{r.status_code} {message}")
            if r.status_code in (401, 403):
                raise AuthError(
                    f"FaceX refused the user id ({r.status_code} {message}). Fix: set {USER_ENV} "
                    f"(and {KEY_ENV} for v1 accounts) and check the plan's call limit"
                )
            if r.status_code == 413:
                raise ImageRejected(f"413 {message}", reason="vendor_image_too_large")
            data = body.get("data") if isinstance(body.get("data"), dict) else body
            if "distance" in data:
                return {"status": "ok", "raw": float(data["distance"])}
            if "face" in message.lower() and any(w in message.lower() for w in ("no ", "not ")):
                side = {"img_1": "probe", "img_2": "reference"}.get(str(body.get("image", "")))
                raise NoFace(f"{r.status_code} {message}", side=side)
            raise VendorError(
                f"FaceX match_faces: {r.status_code}, no distance in the answer "
                f"(keys: {', '.join(sorted(body))})"
            )

        return self.client.call("compare", send, key=self.compare_key(probe, reference))

    def detect(self, image: Prepared) -> dict:
        raise NotImplementedError("FaceX reports which image had no face in its answer")


def credentials_message(settings: dict) -> str | None:
    missing = [] if os.environ.get(USER_ENV) else [USER_ENV]
    url = base_url(settings)
    if not url:
        missing.append(f"{BASE_ENV} (or vendors.facex.base_url)")
    if missing:
        return f"missing {', '.join(missing)}"
    parsed = urlparse(url)
    if parsed.scheme != "https" and parsed.hostname not in LOOPBACK:
        return (
            f"the FaceX base URL {url} is not https:// (refused: faces would travel in clear text)"
        )
    return None
