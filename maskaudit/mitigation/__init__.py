"""Mask-robust embedding heads trained on a registry system's cached embeddings (backbone frozen).

A head is a small residual MLP applied to a base system's embeddings. It learns from the pairs the
masking stage already produces: each image's masked embedding (every mask variant) and its own
unmasked embedding, with identity labels from the manifest. Losses (:mod:`.losses`):

* ``barlow_twins``: Barlow Twins' cross-correlation loss between the masked and unmasked views;
* ``triplet_mse``: a batch-hard triplet margin loss plus an MSE pull of masked onto unmasked;
* ``contrastive``: the Siamese contrastive loss over every masked x unmasked pair of a batch.

A trained head is a system like any other: its registry id is ``<base>+<loss>`` (e.g.
``dlib+barlow_twins``), :func:`derived_card` builds its card from the base's, and its embedding
caches are the base's caches passed through the head, so scoring, tables and statistics run on it
unchanged. This module imports no framework; training (:mod:`.train`) needs PyTorch, applying a
trained head (:mod:`.head`) only NumPy.
"""

from __future__ import annotations

import dataclasses

LOSSES = ("barlow_twins", "triplet_mse", "contrastive")
SEPARATOR = "+"


def head_id(base: str, loss: str) -> str:
    """The registry id of the head trained with ``loss`` on ``base``'s embeddings."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; use one of {', '.join(LOSSES)}")
    return f"{base}{SEPARATOR}{loss}"


def parse_head_id(model_id: str) -> tuple[str, str] | None:
    """``(base, loss)`` for a head id, ``None`` for any other id."""
    base, sep, loss = model_id.rpartition(SEPARATOR)
    return (base, loss) if sep and base and loss in LOSSES else None


def derived_card(model_id: str, registry: dict):
    """The card of head ``model_id`` derived from its base's card in ``registry`` (``None`` if not a head).

    Same embedding length, metric and face pipeline as the base (the head reads the base's
    embeddings); the default threshold is the base's, because the head starts as the identity map
    and was never calibrated: the audit's ``fmr_*`` thresholds are the ones to read.
    """
    parsed = parse_head_id(model_id)
    if parsed is None or parsed[0] not in registry or registry[parsed[0]].kind != "embedding":
        return None
    base = registry[parsed[0]]
    return dataclasses.replace(
        base,
        id=model_id,
        name=f"{base.name} + {parsed[1]} head (trained on its cached embeddings, backbone frozen)",
        base=base.id,
        factory="maskaudit.mitigation.head:HeadedModel",
        threshold_source=f"the base system's default ({base.threshold_source}); the head is not calibrated: "
        f"read the fmr_* thresholds",
        mem_mb=1000,
        threads=1,
        runtime=10,
    )  # gpu: the base's (training asks for one where it does)


def head_models(config: dict, models: list[str], out=None) -> list[str]:
    """Head ids the ``mitigation`` config section asks for; a base that is not audited (not in
    ``models``) gets none, with a message, and the rest of the audit runs."""
    import sys

    section = config.get("mitigation") or {}
    heads = []
    for base in section.get("bases", []):
        if base not in models:
            print(
                f"maskaudit: no mitigation heads for '{base}': it is not in 'models'. The rest of the audit runs.",
                file=out or sys.stderr,
            )
            continue
        heads += [head_id(base, loss) for loss in section.get("losses", [])]
    return heads
