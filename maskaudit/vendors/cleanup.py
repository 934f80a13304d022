"""``maskaudit vendors cleanup``: delete galleries a killed run left on a vendor's servers.

Every gallery is named ``maskaudit-<run id>`` and receipted in the ledger when created; a job deletes
its own in ``finally``. A process killed with SIGKILL cannot, so this sweep deletes (a) every gallery
the vendor lists under the ``maskaudit-`` prefix and (b) every receipt not marked deleted. Run it when
no audit is running: it cannot tell a live job's gallery from an orphan. Deleting an already-gone
gallery is fine.
"""

from __future__ import annotations

from pathlib import Path

from maskaudit.vendors.registry import open_adapter


def sweep(vendor: str, settings: dict, cache_dir: str | Path) -> list[tuple[str, str]]:
    """Delete orphans; returns ``(name, "deleted" | "already gone")`` per gallery."""
    adapter = open_adapter(vendor, settings, cache_dir)
    names = list(
        dict.fromkeys(adapter.list_galleries() + adapter.client.ledger.open_galleries(vendor))
    )
    return [(name, "deleted" if adapter.delete_gallery(name) else "already gone") for name in names]
