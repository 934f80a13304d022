"""Vendor id -> adapter, credential checks (local, no calls) and a ready-to-use client."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from maskaudit.models import REGISTRY
from maskaudit.vendors import VENDORS
from maskaudit.vendors.budget import Cap, Ledger
from maskaudit.vendors.cache import ResponseCache
from maskaudit.vendors.client import VendorClient
from maskaudit.vendors.limits import TokenBucket


def _factory(vendor: str) -> tuple[str, str]:
    """(module, class) of the vendor's adapter: the ``factory`` of its card in the model registry."""
    card = REGISTRY.get(vendor)
    if card is None or card.kind != "comparison":
        raise KeyError(f"unknown vendor {vendor!r}; known: {', '.join(VENDORS)}")
    module, name = card.factory.split(":")
    return module, name


def _module(vendor: str):
    return importlib.import_module(_factory(vendor)[0])


def adapter_class(vendor: str) -> type:
    """The vendor's adapter class (not opened: no client, no call)."""
    return getattr(_module(vendor), _factory(vendor)[1])


def credentials_problem(vendor: str, settings: dict) -> str | None:
    """``None`` when credentials are configured in the standard places; else what is missing.

    Only looks (environment, AWS credential chain); never calls the service and never returns a secret.
    """
    return _module(vendor).credentials_message(settings)


def open_adapter(vendor: str, settings: dict, cache_dir: str | Path, *, sleep=time.sleep, **extra):
    """The vendor's adapter wired to the shared cache, ledger, cap and rate limit of ``settings``."""
    client = VendorClient(
        vendor,
        cache=ResponseCache(cache_dir),
        ledger=Ledger(cache_dir),
        cap=Cap(settings.get("max_calls"), settings.get("max_usd")),
        bucket=TokenBucket(settings["rate_per_s"], settings.get("burst", 1), sleep=sleep),
        max_retries=settings["max_retries"],
        backoff_base_s=settings["backoff_base_s"],
        backoff_cap_s=settings["backoff_cap_s"],
        sleep=sleep,
    )
    module, name = _factory(vendor)
    return getattr(importlib.import_module(module), name)(settings, client, **extra)
