"""The one error vocabulary every vendor adapter maps its answers onto.

Deterministic outcomes (no face, image rejected) are *results*: cached and recorded as failures to
acquire charged to the vendor (``vendor_*`` reasons, :mod:`maskaudit.protocol.fta`), never retried. Throttling and
transient faults are retried with backoff. Authentication problems, Limited Access refusals and
exhausted budgets stop the job with a message that says what to do.
"""

from __future__ import annotations


class VendorError(Exception):
    """Any problem talking to a vendor that is not one of the cases below."""


class Throttled(VendorError):
    """The vendor's own throttle signal (HTTP 429, Rekognition ThrottlingException, Face++ 403
    CONCURRENCY_LIMIT_EXCEEDED). ``retry_after`` in seconds when the vendor said so."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Transient(VendorError):
    """Server error or dropped connection: worth another attempt."""


class NoFace(VendorError):
    """The vendor found no face. ``side`` is ``probe``, ``reference``, ``both`` or ``None`` (unknown)."""

    def __init__(self, message: str, side: str | None = None):
        super().__init__(message)
        self.side = side


class ImageRejected(VendorError):
    """The vendor refused the image itself (size, format). ``reason`` is a ``vendor_*`` code."""

    def __init__(
        self, message: str, reason: str = "vendor_image_rejected", side: str | None = None
    ):
        super().__init__(message)
        self.reason = reason
        self.side = side


class AuthError(VendorError):
    """Credentials missing, wrong or without permission. Never retried, never cached."""


class Unavailable(VendorError):
    """The service refuses this account (Azure Limited Access 403 UnsupportedFeature) or is unreachable."""


class BudgetExceeded(VendorError):
    """The next attempt would exceed the configured cap on calls or money for this vendor."""
