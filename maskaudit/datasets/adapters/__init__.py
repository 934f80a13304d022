"""The table of dataset adapters: one small module per dataset, registered here by name.

``ADAPTERS`` maps the name used in the config (``datasets.<id>.adapter``) to an
:class:`~maskaudit.datasets.adapters.base.Adapter` with the dataset's licence, labels, size, access
and archives. :func:`adapter_table` renders it for the README and ``maskaudit datasets``.
"""

from __future__ import annotations

from maskaudit.datasets.adapters import (
    bfw,
    celeba,
    cfd,
    fairface,
    fei,
    georgia_tech,
    lfw,
    mlfw,
    rfw,
    sof,
    utkface,
    youtube_faces,
)
from maskaudit.datasets.adapters.base import Adapter, Read

ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        fairface.ADAPTER,
        utkface.ADAPTER,
        lfw.ADAPTER,
        celeba.ADAPTER,
        cfd.ADAPTER,
        bfw.ADAPTER,
        rfw.ADAPTER,
        fei.FRONTAL_ADAPTER,
        fei.ORIGINAL_ADAPTER,
        georgia_tech.ADAPTER,
        sof.ADAPTER,
        youtube_faces.ADAPTER,
        mlfw.ADAPTER,
    )
}

__all__ = ["ADAPTERS", "Adapter", "Read", "get_adapter", "adapter_table"]


def get_adapter(name: str) -> Adapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise KeyError(
            f"unknown dataset adapter {name!r}; known: {', '.join(sorted(ADAPTERS))}"
        ) from None


def adapter_table() -> str:
    """A Markdown table of every adapter: access, licence, labels, size, identities."""
    lines = [
        "| adapter | dataset | access | licence | labels | size | identities |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in ADAPTERS.values():
        access = a.access + (" (premasked)" if a.premasked else "")
        lines.append(
            f"| `{a.name}` | [{a.title}]({a.homepage}) | {access} | [{a.licence}]({a.licence_url}) | "
            f"{a.labels} | {a.size} | {a.identities} |"
        )
    return "\n".join(lines) + "\n"
