"""A trained head in NumPy: checkpoint file, forward pass, and the head as a runnable model.

The head maps a base embedding ``x`` (length ``D``) to ``y = u + W2 relu(W1 u + b1) + b2`` with
``u = x / |x|``: a residual MLP whose last layer starts at zero, so an untrained head is the
identity on the unit sphere and training learns a correction. The checkpoint is an ``.npz`` of the
four arrays plus ``config`` (JSON text: base, loss, settings, seed, best epoch); applying it needs
no framework. A NaN input row (a failed image) stays NaN.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ARRAYS = ("w1", "b1", "w2", "b2")


def forward(weights: dict, x: np.ndarray) -> np.ndarray:
    """``(N, D)`` head outputs (float32) of ``(N, D)`` base embeddings."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
    h = np.maximum(u @ weights["w1"].T + weights["b1"], 0.0)
    return (u + h @ weights["w2"].T + weights["b2"]).astype(np.float32)


def save_checkpoint(path, weights: dict, config: dict) -> None:
    np.savez(
        path,
        **{k: np.asarray(weights[k], dtype=np.float32) for k in ARRAYS},
        config=np.array(json.dumps(config, sort_keys=True)),
    )


def load_checkpoint(path) -> tuple[dict, dict]:
    """``(weights, config)``; checks the arrays' shapes agree."""
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in (*ARRAYS, "config") if k not in z.files]
        if missing:
            raise ValueError(f"{path}: not a head checkpoint (missing {missing})")
        weights = {k: z[k] for k in ARRAYS}
        config = json.loads(str(z["config"]))
    hidden, dim = weights["w1"].shape
    if (
        weights["b1"].shape != (hidden,)
        or weights["w2"].shape != (dim, hidden)
        or weights["b2"].shape != (dim,)
    ):
        raise ValueError(
            f"{path}: inconsistent head shapes { ({k: v.shape for k, v in weights.items()}) }"
        )
    return weights, config


class HeadedModel:
    """The registry factory of a head (``<base>+<loss>``): the base model with the head on its output.

    ``checkpoint`` defaults to where the workflow writes it, ``results/heads/<id>/checkpoint.npz``.
    """

    def __init__(self, card, alignment="shared_landmarks", weights_dir=None, checkpoint=None, **kw):
        from maskaudit.models import load_model

        self.card = card
        self.base = load_model(card.base, alignment, weights_dir=weights_dir, **kw)
        self.weights, self.config = load_checkpoint(
            checkpoint or Path("results/heads") / card.id / "checkpoint.npz"
        )

    def acquire(self, *args, **kw):
        return self.base.acquire(*args, **kw)

    def represent(self, crops):
        return forward(self.weights, self.base.represent(crops))

    def describe(self) -> dict:
        return {**self.base.describe(), "model": self.card.id, "head": self.config}
