"""Client-side rate limit (token bucket) and retry backoff, with injectable clock and sleep.

Across processes, the workflow lets one job per vendor run at a time (Snakemake resource
``api_<vendor>=1``); inside that job this bucket keeps the request rate at ``rate_per_s`` with bursts
of at most ``burst`` requests.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate_per_s: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate, self.capacity = float(rate_per_s), float(max(1, burst))
        self._clock, self._sleep = clock, sleep
        self._tokens = self.capacity
        self._last = clock()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        with self._lock:
            while True:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
                self.waited_s += wait
                self._sleep(wait)


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    The vendor's ``Retry-After`` wins when given (capped at ``cap_s``); otherwise exponential backoff
    with full jitter: uniform in ``[0, min(cap_s, base_s * 2**(attempt-1))]``.
    """
    if retry_after is not None:
        return min(cap_s, max(0.0, retry_after))
    ceiling = min(cap_s, base_s * 2 ** (attempt - 1))
    return (rng or random).uniform(0.0, ceiling)
