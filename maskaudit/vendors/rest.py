"""Thin ``requests`` plumbing shared by the REST adapters (Azure, Face++, FaceX).

A session without urllib3 retries (the wrapper retries and charges every attempt), a timeout, and
connection failures mapped to :class:`~maskaudit.vendors.errors.Transient`. Request bodies are never
logged (Face++ carries its secret in the form fields).
"""

from __future__ import annotations

import requests

from maskaudit.vendors.errors import Transient


def session() -> requests.Session:
    s = requests.Session()
    adapter = requests.adapters.HTTPAdapter(max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.trust_env = False  # no proxies or .netrc credentials picked up behind the user's back
    return s


def send(
    s: requests.Session, method: str, url: str, *, timeout: float, **kwargs
) -> requests.Response:
    try:
        return s.request(method, url, timeout=timeout, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise Transient(
            f"connection problem with {url.split('?')[0]}: {type(exc).__name__}"
        ) from None


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def json_or_text(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:200]}
