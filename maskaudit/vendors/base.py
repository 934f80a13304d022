"""What every vendor adapter has in common: settings, cache keys, gallery naming."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from maskaudit.vendors.cache import cache_key
from maskaudit.vendors.client import VendorClient
from maskaudit.vendors.errors import VendorError
from maskaudit.vendors.images import Limits, Prepared

GALLERY_PREFIX = "maskaudit-"
ADAPTER_SCHEMA = "1"


def gallery_name(run_id: str) -> str:
    """Vendor-side name of a run's gallery: ``maskaudit-<run id>`` ([a-z0-9-], at most 64 chars)."""
    return (GALLERY_PREFIX + re.sub(r"[^a-z0-9-]", "-", run_id.lower()))[:64]


class Adapter:
    """One vendor's wire protocol. Subclasses send exactly one HTTP request per ``client.call``."""

    vendor: str = ""
    limits: Limits
    has_search: bool = False
    max_candidates: int = 0  # most candidates one search can return
    raw_direction: str = "higher_is_same"

    def __init__(self, settings: dict, client: VendorClient):
        self.settings, self.client = settings, client

    # -- identity of the answers ------------------------------------------------------------------
    def endpoint(self) -> str:
        """Non-secret endpoint or region, part of every cache key."""
        raise NotImplementedError

    def model_version(self) -> str:
        raise NotImplementedError

    def model_info(self) -> dict:
        """What identifies the answers, for the sidecars: the endpoint without any ``user:password@``."""
        return {
            "endpoint": without_userinfo(self.endpoint()),
            "model": self.model_version(),
            "adapter_schema": ADAPTER_SCHEMA,
        }

    def key(
        self, operation: str, params: dict, images: list[Prepared], gallery: str | None = None
    ) -> str:
        return cache_key(
            self.vendor,
            operation,
            endpoint=self.endpoint(),
            model=self.model_version(),
            params={**params, "adapter_schema": ADAPTER_SCHEMA},
            images=[p.sha256 for p in images],
            gallery=gallery,
        )

    # -- 1:1 --------------------------------------------------------------------------------------
    def compare_key(self, probe: Prepared, reference: Prepared) -> str:
        return self.key("compare", {}, [probe, reference])

    def compare_calls(self, probe: Prepared, reference: Prepared, detected: set) -> dict[str, int]:
        """The requests :meth:`compare` would send now, by billed operation (cache hits send none).
        ``detected``: SHA-256 of the images this job has already sent for detection (Azure); updated."""
        return (
            {} if self.client.cache.contains(self.compare_key(probe, reference)) else {"compare": 1}
        )

    def known_failure(self, images: dict) -> dict | None:
        """A failure already known from the cache without a request for these images (Azure: detect)."""
        return None

    def compare(self, probe: Prepared, reference: Prepared) -> dict:
        """``{"status": "ok", "raw": score, ...}`` or a failure record (``vendor_no_face`` with ``side``)."""
        raise NotImplementedError

    def detect(self, image: Prepared) -> dict:
        """``{"status": "ok", "n_faces": n}`` or ``vendor_no_face``; used to tell which side had no face."""
        raise NotImplementedError

    # -- 1:N --------------------------------------------------------------------------------------
    def search_key(self, probe: Prepared, k: int, digest: str) -> str:
        raise NotImplementedError

    def search_resolved(self, probe: Prepared, k: int, digest: str) -> bool:
        """Whether a search for ``probe`` can be answered without a gallery (from the cache)."""
        return self.client.cache.contains(self.search_key(probe, k, digest))

    @contextmanager
    def gallery(
        self, run_id: str, items: list[tuple[int, Prepared]], digest: str
    ) -> Iterator[Gallery]:
        """Create ``maskaudit-<run id>``, enrol ``items`` (gallery index, image), yield it, delete it in ``finally``.

        ``digest`` identifies the gallery's content for the search cache keys."""
        raise NotImplementedError
        yield

    def list_galleries(self) -> list[str]:
        """Names of this tool's galleries on the vendor side (prefix ``maskaudit-``)."""
        return []

    def delete_gallery(self, name: str) -> bool:
        """Delete ``name``; ``False`` when it was already gone (tolerated, :meth:`_already_gone`). Either way
        the ledger records the gallery as deleted; any other error propagates."""
        try:
            self.client.call("delete_gallery", lambda: self._delete_request(name))
            gone = True
        except VendorError as exc:
            if not self._already_gone(exc):
                raise
            gone = False
        self.client.ledger.gallery_deleted(self.vendor, name)
        return gone

    def _delete_request(self, name: str) -> dict:
        """Send the vendor's delete request for gallery ``name``; a ``{"status": "ok", ...}`` answer."""
        raise NotImplementedError

    def _already_gone(self, exc: VendorError) -> bool:
        """Whether ``exc`` says the gallery did not exist (the vendor's own error text)."""
        raise NotImplementedError


class Gallery:
    """An enrolled gallery: ``enrolled`` maps gallery index to its status; ``search`` ranks a probe."""

    def __init__(self, name: str, digest: str):
        self.name, self.digest = name, digest
        self.enrolled: dict[int, str] = {}

    def search(self, probe: Prepared, k: int) -> dict:
        raise NotImplementedError


_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]*@")


def without_userinfo(value):
    """``value`` with the ``user:password@`` of every URL in it removed (strings, and the strings inside
    dicts and lists): what is recorded about an endpoint never carries its credentials."""
    if isinstance(value, str):
        return _USERINFO.sub(r"\g<scheme>", value)
    if isinstance(value, dict):
        return {k: without_userinfo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(without_userinfo(v) for v in value)
    return value
