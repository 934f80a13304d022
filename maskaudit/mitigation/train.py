"""Training a head on cached embedding pairs (PyTorch; CPU by default, CUDA when asked and present).

Each epoch shuffles the training pairs with a seeded generator and takes Adam steps on batches of
``batch_size`` pairs. After every epoch (and once before the first, the untrained identity head) the
validation loss is computed on all validation pairs in one batch, so it is a deterministic number.
The weights of the epoch with the lowest validation loss are kept (the untrained head when no epoch
beats it); without a usable validation set (fewer than two pairs) the last epoch's are kept.

Determinism: the seed fixes the initial weights and every shuffle, and PyTorch runs in deterministic
mode, so the same pairs, settings, seed, device and thread count give the same checkpoint.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from maskaudit.mitigation.head import forward
from maskaudit.mitigation.losses import make_loss
from maskaudit.seeding import derive_seed

log = logging.getLogger(__name__)


class ResidualHead(nn.Module):
    """``y = u + W2 relu(W1 u + b1) + b2``, ``u = x / |x|``; ``W2``, ``b2`` start at zero."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x):
        u = nn.functional.normalize(x, dim=1, eps=1e-12)
        return u + self.fc2(torch.relu(self.fc1(u)))

    def arrays(self) -> dict:
        return {
            "w1": self.fc1.weight,
            "b1": self.fc1.bias,
            "w2": self.fc2.weight,
            "b2": self.fc2.bias,
        }


def pick_device(requested: str) -> str:
    """``cuda`` when ``requested`` is ``auto`` and CUDA is available, else ``cpu``."""
    return "cuda" if requested == "auto" and torch.cuda.is_available() else "cpu"


def _numpy(model: ResidualHead) -> dict:
    return {
        k: v.detach().cpu().numpy().astype(np.float32).copy() for k, v in model.arrays().items()
    }


def train_head(
    train: pd.DataFrame,
    val: pd.DataFrame,
    loss: str,
    settings: dict,
    *,
    seed: int,
    device: str = "cpu",
    threads: int = 1,
) -> tuple[dict, pd.DataFrame, dict]:
    """Train on ``train`` pairs (:func:`maskaudit.mitigation.data.load_pairs`), select on ``val``.

    ``settings``: ``hidden``, ``epochs``, ``batch_size``, ``learning_rate``, ``weight_decay`` and the
    loss's own settings under its name (where ``learning_rate`` and ``epochs`` may override).
    Returns ``(weights, curve, info)``: NumPy arrays for
    :func:`maskaudit.mitigation.head.save_checkpoint`, one curve row per epoch (0 = untrained:
    ``train_loss``, ``val_loss``, ``val_pair_distance``, ``val_impostor_distance``), and ``info``
    (best epoch, samples/s, device).
    """
    torch.manual_seed(derive_seed(seed, "mitigation-init", loss))
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(max(1, int(threads)))
    if len(train) < 2:
        raise ValueError(
            f"{len(train)} training pair(s): a head needs at least two (more identities or variants)"
        )
    dev = torch.device(device)
    codes = {name: k for k, name in enumerate(sorted(set(train.identity) | set(val.identity)))}

    def tensors(pairs):
        return (
            torch.tensor(pairs.attrs["masked"], device=dev),
            torch.tensor(pairs.attrs["unmasked"], device=dev),
            torch.tensor(pairs.identity.map(codes).to_numpy(np.int64), device=dev),
        )

    tm, tu, ti = tensors(train)
    vm, vu, vi = tensors(val)
    model = ResidualHead(tm.shape[1], int(settings["hidden"])).to(dev)
    # the loss's own settings; learning_rate/epochs here override
    own = dict(settings.get(loss) or {})
    lr, epochs = (
        float(own.pop("learning_rate", settings["learning_rate"])),
        int(own.pop("epochs", settings["epochs"])),
    )
    criterion = make_loss(loss, own)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=float(settings["weight_decay"]))
    gen = torch.Generator().manual_seed(derive_seed(seed, "mitigation-shuffle", loss))
    batch = max(2, int(settings["batch_size"]))

    def evaluate():
        model.eval()
        with torch.no_grad():
            if len(vm) < 2:
                return float("nan"), float("nan"), float("nan")
            zm, zu = model(vm), model(vu)
            value = float(criterion(zm, zu, vi))
            sim = nn.functional.normalize(zm, dim=1) @ nn.functional.normalize(zu, dim=1).T
            other = vi[:, None] != vi[None, :]
            pair = float((1 - torch.diagonal(sim)).mean())
            imp = float((1 - sim[other]).mean()) if bool(other.any()) else float("nan")
        return value, pair, imp

    rows, best = [], (np.inf, 0, _numpy(model))
    v, pd_, imp = evaluate()
    rows.append(
        {
            "epoch": 0,
            "train_loss": float("nan"),
            "val_loss": v,
            "val_pair_distance": pd_,
            "val_impostor_distance": imp,
        }
    )
    if np.isfinite(v):
        best = (v, 0, _numpy(model))
    seen, t0 = 0, time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(tm), generator=gen).to(dev)
        total, count = 0.0, 0
        for k in range(0, len(order), batch):
            idx = order[k : k + batch]
            if len(idx) < 2:  # a batch statistic (and any negative) needs two pairs
                continue
            value = criterion(model(tm[idx]), model(tu[idx]), ti[idx])
            opt.zero_grad()
            value.backward()
            opt.step()
            total, count, seen = (
                total + float(value.detach()) * len(idx),
                count + len(idx),
                seen + len(idx),
            )
        v, pd_, imp = evaluate()
        rows.append(
            {
                "epoch": epoch,
                "train_loss": total / max(count, 1),
                "val_loss": v,
                "val_pair_distance": pd_,
                "val_impostor_distance": imp,
            }
        )
        if np.isfinite(v) and v < best[0]:
            best = (v, epoch, _numpy(model))
    elapsed = time.perf_counter() - t0
    if not np.isfinite(best[0]):
        log.warning("no usable validation pairs: keeping the last epoch's weights")
        best = (float("nan"), epochs, _numpy(model))
    info = {
        "best_epoch": int(best[1]),
        "best_val_loss": float(best[0]),
        "device": str(dev),
        "train_pairs": int(len(train)),
        "val_pairs": int(len(val)),
        "train_seconds": elapsed,
        "samples_seen": seen,
        "samples_per_s": seen / elapsed if elapsed > 0 else float("nan"),
    }
    log.info(
        "%s: best epoch %d of %s (val loss %.4f), %.0f samples/s on %s",
        loss,
        best[1],
        epochs,
        best[0],
        info["samples_per_s"],
        dev,
    )
    return best[2], pd.DataFrame(rows), info


def apply_pairs(weights: dict, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Head outputs of the masked and unmasked sides of ``pairs`` (NumPy, as the workflow applies it)."""
    return forward(weights, pairs.attrs["masked"]), forward(weights, pairs.attrs["unmasked"])
