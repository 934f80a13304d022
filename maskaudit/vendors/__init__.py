"""Commercial face-recognition systems (comparison-only): Rekognition, Azure Face, Face++ and FaceX.

A vendor returns scores, not embeddings. Each one is an *adapter* (``rekognition``, ``azure``,
``facepp``, ``facex``) that speaks the vendor's wire protocol and maps its answers and errors onto
one vocabulary (:mod:`maskaudit.vendors.errors`). Everything that must behave identically for all of
them sits in one wrapper, :class:`maskaudit.vendors.client.VendorClient`: the on-disk response cache
(:mod:`.cache`), the spend ledger and hard cap (:mod:`.budget`), the token-bucket rate and the
retry/backoff on each vendor's own throttle signal (:mod:`.limits`). :mod:`.run` turns a dataset
variant into its comparisons file (contract: :mod:`maskaudit.protocol`); :mod:`.plan` and :mod:`.cleanup` back the
``maskaudit vendors`` command.
"""

from maskaudit.models import REGISTRY as _REGISTRY

# The vendor ids: the registry's comparison systems (maskaudit/models/__init__.py lists them once).
VENDORS = tuple(card.id for card in _REGISTRY.values() if card.kind == "comparison")
