"""The three training losses, on a batch of head outputs (PyTorch).

Every loss takes ``masked`` and ``unmasked``, ``(N, D)`` head outputs of the same ``N`` images (row
``i`` of both is one image, masked and unmasked), and ``identity``, ``(N,)`` integer identity codes.

* :func:`barlow_twins_loss` (Zbontar et al. 2021): each dimension is standardised over the batch
  (mean 0, biased std 1), ``C = z1^T z2 / N`` is the cross-correlation matrix of the two views and
  ``L = sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2``: invariance to the mask on the diagonal,
  redundancy reduction off it. Identity labels are not used.
* :func:`triplet_mse_loss` ("My Eyes Are Up Here"): on L2-normalised outputs, anchor = masked,
  positive = the same image unmasked, negative = the closest unmasked output of another identity in
  the batch (batch-hard). ``L = mean_i max(0, d(a_i, p_i) - d(a_i, n_i) + margin)
  + mse_weight * mean((a - p)^2)`` (the MSE pull averages over every element). Anchors without a
  negative in the batch (one identity) add no triplet term.
* :func:`contrastive_loss` (Hadsell et al. 2006, Siamese): on L2-normalised outputs, every masked x
  unmasked pair of the batch is genuine (same identity, ``y = 1``) or impostor (``y = 0``);
  ``L = 0.5 * mean_genuine d^2 + 0.5 * mean_impostor max(0, margin - d)^2`` (each kind averaged on
  its own so the N genuine pairs are not outweighed by the ~N^2 impostors; an absent kind adds 0).

``d`` is the Euclidean distance between unit vectors, ``sqrt(2 - 2 cos)``, a monotone map of the
cosine distance the audit scores with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-6


def cross_correlation(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """``C = z1n^T z2n / N`` with each column standardised over the batch (biased std, ``+EPS``)."""
    if z1.shape != z2.shape or z1.ndim != 2 or z1.shape[0] < 2:
        raise ValueError(
            f"need two (N >= 2, D) batches of one shape, got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )
    z1n = (z1 - z1.mean(0)) / (z1.std(0, unbiased=False) + EPS)
    z2n = (z2 - z2.mean(0)) / (z2.std(0, unbiased=False) + EPS)
    return z1n.T @ z2n / z1.shape[0]


def barlow_twins_loss(masked, unmasked, identity=None, *, lambd: float = 0.005) -> torch.Tensor:
    c = cross_correlation(masked, unmasked)
    on = (torch.diagonal(c) - 1.0).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lambd * off


def _unit(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=1, eps=EPS)


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``(N, M)`` between unit rows (clamped before the root for stable gradients)."""
    return (2.0 - 2.0 * a @ b.T).clamp_min(1e-12).sqrt()


def triplet_mse_loss(
    masked, unmasked, identity, *, margin: float = 0.2, mse_weight: float = 1.0
) -> torch.Tensor:
    a, p = _unit(masked), _unit(unmasked)
    d = _distances(a, p)
    other = identity[:, None] != identity[None, :]
    has_negative = other.any(1)
    d_pos = torch.diagonal(d)
    d_neg = torch.where(other, d, torch.full_like(d, float("inf"))).min(1).values
    hinge = (d_pos - d_neg + margin).clamp_min(0.0)
    triplet = hinge[has_negative].mean() if bool(has_negative.any()) else d.new_zeros(())
    return triplet + mse_weight * F.mse_loss(a, p)


def contrastive_loss(masked, unmasked, identity, *, margin: float = 0.5) -> torch.Tensor:
    a, p = _unit(masked), _unit(unmasked)
    d = _distances(a, p)
    same = identity[:, None] == identity[None, :]
    genuine = d[same].pow(2).mean() if bool(same.any()) else d.new_zeros(())
    impostor = (
        (margin - d[~same]).clamp_min(0.0).pow(2).mean() if bool((~same).any()) else d.new_zeros(())
    )
    return 0.5 * genuine + 0.5 * impostor


LOSS_FUNCTIONS = {
    "barlow_twins": barlow_twins_loss,
    "triplet_mse": triplet_mse_loss,
    "contrastive": contrastive_loss,
}


def make_loss(name: str, settings: dict | None = None):
    """``loss(masked, unmasked, identity)`` for loss ``name`` with its config ``settings``
    (barlow_twins: ``lambda``; triplet_mse: ``margin``, ``mse_weight``; contrastive: ``margin``)."""
    settings = dict(settings or {})
    if "lambda" in settings:
        settings["lambd"] = settings.pop("lambda")
    fn = LOSS_FUNCTIONS[name]
    return lambda masked, unmasked, identity: fn(masked, unmasked, identity, **settings)
