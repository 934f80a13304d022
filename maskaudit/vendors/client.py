"""The one wrapper around every vendor request: cache, budget, rate limit, retry, accounting.

An adapter performs each HTTP request through :meth:`VendorClient.call` with a function that sends
exactly one request and returns a normalised record (a JSON-able dict with ``status: "ok"``). The
wrapper

1. returns the cached record when the key is known (no request, no charge);
2. charges the attempt to the ledger, refusing before it would exceed the cap;
3. waits for a token of the vendor's rate limit;
4. sends; on the vendor's throttle signal or a transient fault, backs off (``Retry-After`` first) and
   tries again, each retry being a new charged attempt, up to ``max_retries``;
5. turns "no face" and "image rejected" into failure-to-acquire records (``vendor_no_face``,
   ``vendor_image_*``), which are cached and never retried;
6. counts calls sent, cache hits, retries and throttles for the sidecar.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from maskaudit.vendors.budget import Cap, Ledger
from maskaudit.vendors.cache import ResponseCache
from maskaudit.vendors.errors import ImageRejected, NoFace, Throttled, Transient, VendorError
from maskaudit.vendors.limits import TokenBucket, backoff_delay
from maskaudit.vendors.prices import price

log = logging.getLogger(__name__)
CLEANUP_OPERATIONS = frozenset({"delete_gallery", "list_galleries"})


@dataclass
class Counters:
    calls: int = 0  # attempts sent over the wire (retries included)
    cached: int = 0  # answered from the cache
    retries: int = 0
    throttled: int = 0
    by_operation: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "n_calls": self.calls,
            "cached_calls": self.cached,
            "retries": self.retries,
            "throttled": self.throttled,
            "calls_by_operation": dict(sorted(self.by_operation.items())),
        }


class VendorClient:
    def __init__(
        self,
        vendor: str,
        *,
        cache: ResponseCache,
        ledger: Ledger,
        cap: Cap,
        bucket: TokenBucket,
        max_retries: int = 6,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int = 0,
    ):
        self.vendor, self.cache, self.ledger, self.cap, self.bucket = (
            vendor,
            cache,
            ledger,
            cap,
            bucket,
        )
        self.max_retries, self.backoff_base_s, self.backoff_cap_s = (
            max_retries,
            backoff_base_s,
            backoff_cap_s,
        )
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.counters = Counters()

    def cached(self, key: str) -> dict | None:
        """The cached record for ``key`` (counted as a cache hit), or ``None``."""
        hit = self.cache.get(key)
        if hit is not None:
            self.counters.cached += 1
        return hit

    def call(
        self,
        operation: str,
        send: Callable[[], dict],
        *,
        key: str | None = None,
        cache_if: Callable[[dict], bool] = lambda record: True,
    ) -> dict:
        """Deleting and listing galleries (:data:`CLEANUP_OPERATIONS`) are recorded in the ledger but
        never refused: cleaning up must not be blocked by the budget it protects."""
        capped = operation not in CLEANUP_OPERATIONS
        if key is not None:
            hit = self.cached(key)
            if hit is not None:
                return hit
        attempt = 0
        while True:
            attempt += 1
            self.ledger.charge(
                self.vendor, operation, price(self.vendor, operation), self.cap if capped else Cap()
            )
            self.bucket.acquire()
            self.counters.calls += 1
            self.counters.by_operation[operation] = self.counters.by_operation.get(operation, 0) + 1
            try:
                record = send()
            except (Throttled, Transient) as exc:
                throttled = isinstance(exc, Throttled)
                self.counters.throttled += throttled
                if attempt > self.max_retries:
                    fix = (
                        f"lower vendors.{self.vendor}.rate_per_s or retry later"
                        if throttled
                        else f"check the network and the vendor's endpoint (vendors.{self.vendor} settings), then "
                        "retry later; a lower rate does not cure time-outs or server errors"
                    )
                    raise VendorError(
                        f"{self.vendor} {operation}: gave up after {attempt} attempts: {exc}. "
                        f"Fix: {fix}"
                    ) from exc
                delay = backoff_delay(
                    attempt,
                    base_s=self.backoff_base_s,
                    cap_s=self.backoff_cap_s,
                    retry_after=getattr(exc, "retry_after", None),
                    rng=self.rng,
                )
                log.warning(
                    "%s %s: %s (attempt %d); retrying in %.2f s",
                    self.vendor,
                    operation,
                    "throttled" if throttled else "transient fault",
                    attempt,
                    delay,
                )
                self.counters.retries += 1
                self.sleep(delay)
                continue
            except NoFace as exc:
                record = {"status": "vendor_no_face", "side": exc.side, "detail": str(exc)}
            except ImageRejected as exc:
                record = {"status": exc.reason, "side": exc.side, "detail": str(exc)}
            record = {**record, "attempts": attempt}
            if key is not None and cache_if(record):
                self.cache.put(key, self.vendor, operation, record)
            return record
