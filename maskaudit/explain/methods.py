"""Saliency methods. Every map is ``(H, W)`` float over the image it explains, larger = more support
for the target score.

Black-box methods take ``score(images) -> (n,)``, a function of a batch of images ``(n, H, W, 3)``
(float RGB in [0, 1]), and hand it every perturbed copy at once, ``batch_size`` copies per call, the
unperturbed image first: one map costs one batched pass over its copies (``ceil((K + 1) / batch_size)``
calls) and no Python work per copy.

* **Occlusion** (Zeiler & Fergus 2014): a square patch (side ``patch`` x the image side) slides with
  step ``stride``; copy ``k`` has patch ``P_k`` filled with ``fill``. ``map(p) = mean over k with p in P_k of
  (s(x) - s(x_k))``: the drop of the score when the pixel is hidden (negative where hiding raises it).
* **RISE** (Petsiuk et al. 2018): ``n`` random binary ``cells x cells`` grids (each cell kept with
  probability ``p``), upsampled bilinearly and shifted by a random sub-cell offset, give soft masks
  ``M_k``; ``copy_k = x M_k + fill (1 - M_k)`` and ``map = sum_k (s_k - mean_k s_k) M_k / (n p)`` (the
  RISE estimator, centred so that a constant score gives a zero map).

Gradient methods take a PyTorch network, the module ``layer`` whose output ``A`` (n, C, h, w) is
explained, and ``target(embeddings) -> (n,)``. With ``g = dT/dA``:

* **Grad-CAM** (Selvaraju et al. 2017): ``ReLU(sum_c w_c A_c)``, ``w_c = mean_ij g_cij``.
* **Grad-CAM++** (Chattopadhay et al. 2018, closed form for an exponential target as in their
  paper): ``alpha_cij = g^2 / (2 g^2 + sum_ab A_cab g^3)`` (0 where the denominator is 0),
  ``w_c = sum_ij alpha_cij ReLU(g_cij)``, map ``ReLU(sum_c w_c A_c)``.
* **Smooth Grad-CAM++** (Omeiza et al. 2019): the Grad-CAM++ map averaged over ``samples`` copies of
  the input with Gaussian noise of standard deviation ``sigma x (max - min)`` of the input.
* **SmoothGrad** (Smilkov et al. 2017): ``max_channel |dT/dx|`` averaged over the same noisy copies
  (pixel level; ``layer`` unused).

Class-activation maps are upsampled bilinearly (``align_corners=False``) to the input size. Noise
comes from a ``torch.Generator`` seeded by the caller, so maps are deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Score = Callable[[np.ndarray], np.ndarray]


# -- black box ---------------------------------------------------------------------------------
def occlusion_masks(height: int, width: int, patch: float, stride: float) -> np.ndarray:
    """``(K, height, width)`` bool patches: side ``patch`` x the image side, step ``stride`` x the side,
    the last row and column of patches flush with the border (every pixel is covered)."""

    def starts(n, frac_patch, frac_stride):
        size, step = max(1, round(frac_patch * n)), max(1, round(frac_stride * n))
        s = list(range(0, n - size + 1, step))
        if s[-1] != n - size:
            s.append(n - size)
        return np.array(s), size

    ys, ph = starts(height, patch, stride)
    xs, pw = starts(width, patch, stride)
    rows = (np.arange(height)[None] >= ys[:, None]) & (np.arange(height)[None] < ys[:, None] + ph)
    cols = (np.arange(width)[None] >= xs[:, None]) & (np.arange(width)[None] < xs[:, None] + pw)
    return (rows[:, None, :, None] & cols[None, :, None, :]).reshape(
        len(ys) * len(xs), height, width
    )


def rise_masks(
    height: int, width: int, n: int, cells: int, p: float, rng: np.random.Generator
) -> np.ndarray:
    """``(n, height, width)`` float32 RISE masks in [0, 1] (see the module docstring)."""
    import cv2

    ch, cw = int(np.ceil(height / cells)), int(np.ceil(width / cells))
    grids = (rng.random((n, cells, cells)) < p).astype(np.float32)
    shifts = np.stack([rng.integers(0, ch, n), rng.integers(0, cw, n)], axis=1)
    out = np.empty((n, height, width), np.float32)
    for k in range(n):  # building the masks, not scoring: the copies are scored in batches below
        big = cv2.resize(
            grids[k], ((cells + 1) * cw, (cells + 1) * ch), interpolation=cv2.INTER_LINEAR
        )
        out[k] = big[shifts[k, 0] : shifts[k, 0] + height, shifts[k, 1] : shifts[k, 1] + width]
    return out


def _score_all(
    score: Score, image: np.ndarray, make_copies, k: int, batch_size: int
) -> tuple[float, np.ndarray]:
    """Scores of the image (first) and its ``k`` copies, ``batch_size`` per call."""
    scores = np.empty(k + 1)
    for start in range(0, k + 1, batch_size):
        idx = np.arange(start, min(k + 1, start + batch_size))
        batch = make_copies(idx[idx > 0] - 1)
        if idx[0] == 0:
            batch = np.concatenate([image[None], batch])
        scores[idx] = np.asarray(score(batch), dtype=float).reshape(-1)
    return float(scores[0]), scores[1:]


def fill_value(image: np.ndarray, fill: str) -> np.ndarray:
    """The colour hidden pixels get: ``mean`` (the image's mean colour), ``black`` or ``gray`` (0.5)."""
    if fill == "mean":
        return image.reshape(-1, image.shape[-1]).mean(0)
    if fill in ("black", "gray"):
        return np.full(image.shape[-1], 0.0 if fill == "black" else 0.5)
    raise ValueError(f"fill must be mean, black or gray, got {fill!r}")


def occlusion_map(
    score: Score,
    image: np.ndarray,
    *,
    patch: float = 0.25,
    stride: float = 0.125,
    fill: str = "mean",
    batch_size: int = 64,
    with_score: bool = False,
):
    """Occlusion map of ``image`` (H, W, 3) for ``score`` (and the image's own score, ``with_score``)."""
    h, w = image.shape[:2]
    masks = occlusion_masks(h, w, patch, stride)
    colour = fill_value(image, fill).astype(image.dtype)
    base, scores = _score_all(
        score,
        image,
        lambda idx: np.where(masks[idx, :, :, None], colour, image[None]),
        len(masks),
        batch_size,
    )
    sal = occlusion_from_scores(base, scores, masks)
    return (sal, base) if with_score else sal


def occlusion_from_scores(base: float, scores: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The occlusion map from the image's score ``base`` and its copies' ``scores`` (one per mask)."""
    drops = (base - np.asarray(scores, float)).astype(np.float32)
    cover = masks.sum(0)
    return np.tensordot(drops, masks.astype(np.float32), axes=1) / np.maximum(cover, 1)


def rise_from_scores(scores: np.ndarray, masks: np.ndarray, p: float) -> np.ndarray:
    """The RISE map from the copies' ``scores`` (one per mask) and the keep probability ``p``."""
    s = np.asarray(scores, float)
    return (np.tensordot((s - s.mean()).astype(np.float32), masks, axes=1) / (len(s) * p)).astype(
        np.float32
    )


def floor_missing(
    base: float, scores: np.ndarray, floor: float | None = None
) -> tuple[np.ndarray, int]:
    """Copies the system could not score (NaN: a vendor found no face in them) get ``floor`` (the
    bottom of the system's scale: hiding that part cost the face), or without one the lowest score of
    the image and its scored copies. Returns (scores, how many were missing)."""
    s = np.asarray(scores, float)
    missing = ~np.isfinite(s)
    if not missing.any():
        return s, 0
    if floor is None:
        floor = np.nanmin(np.append(s[~missing], base))
    return np.where(missing, floor, s), int(missing.sum())


def rise_map(
    score: Score,
    image: np.ndarray,
    *,
    n_masks: int = 500,
    cells: int = 7,
    p: float = 0.5,
    fill: str = "mean",
    batch_size: int = 64,
    rng: np.random.Generator,
    with_score: bool = False,
):
    """RISE map of ``image`` (H, W, 3) for ``score``, masks drawn from ``rng`` (and the image's own
    score, ``with_score``)."""
    h, w = image.shape[:2]
    masks = rise_masks(h, w, n_masks, cells, p, rng)
    colour = fill_value(image, fill).astype(np.float32)
    img = image.astype(np.float32)
    base, scores = _score_all(
        score,
        img,
        lambda idx: img[None] * masks[idx, :, :, None] + colour * (1 - masks[idx, :, :, None]),
        n_masks,
        batch_size,
    )
    sal = rise_from_scores(scores, masks, p)
    return (sal, base) if with_score else sal


# -- gradients (PyTorch) -------------------------------------------------------------------------
def find_module(net, layer: str):
    """The submodule named ``layer`` (``dict(net.named_modules())`` key, e.g. ``block8.5``)."""
    modules = dict(net.named_modules())
    if layer not in modules:
        names = [k for k in modules if k][-8:]
        raise ValueError(
            f"layer {layer!r} is not a module of {type(net).__name__}; its last modules: {names}"
        )
    return modules[layer]


def _cam(net, module, x, target, plusplus: bool):
    import torch
    import torch.nn.functional as F

    store = {}
    hook = module.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    x = x.detach().requires_grad_(True)  # a graph reaches the layer even if the weights are frozen
    try:
        with torch.enable_grad():
            t = target(net(x))
            (g,) = torch.autograd.grad(t.sum(), store["a"])
    finally:
        hook.remove()
    a = store["a"].detach()
    if a.ndim != 4:
        raise ValueError(
            f"layer output has shape {tuple(a.shape)}; a class-activation map needs (n, C, h, w)"
        )
    if plusplus:
        g2, g3 = g**2, g**3
        den = 2 * g2 + a.sum((2, 3), keepdim=True) * g3
        alpha = torch.where(
            den != 0, g2 / torch.where(den != 0, den, torch.ones_like(den)), torch.zeros_like(den)
        )
        weights = (alpha * F.relu(g)).sum((2, 3), keepdim=True)
    else:
        weights = g.mean((2, 3), keepdim=True)
    cam = F.relu((weights * a).sum(1, keepdim=True))
    return F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]


def _noisy(x, sigma, generator):
    import torch

    span = x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device="cpu").to(x.device)
    return x + noise * sigma * span


def gradient_map(
    net,
    x,
    target,
    method: str,
    *,
    layer: str | None = None,
    samples: int = 16,
    sigma: float = 0.1,
    generator=None,
) -> np.ndarray:
    """``(n, H, W)`` maps of the input batch ``x`` (n, C, H, W) for ``target(net(x)) -> (n,)``."""
    import torch

    x = x.detach()
    if method == "smoothgrad":
        total = torch.zeros((x.shape[0],) + tuple(x.shape[2:]), device=x.device)
        for _ in range(samples):
            xn = _noisy(x, sigma, generator).requires_grad_(True)
            with torch.enable_grad():
                (g,) = torch.autograd.grad(target(net(xn)).sum(), xn)
            total += g.abs().amax(1)
        return (total / samples).cpu().numpy()
    module = find_module(net, layer)
    if method in ("gradcam", "gradcampp"):
        return _cam(net, module, x, target, method == "gradcampp").cpu().numpy()
    if method == "smooth_gradcampp":
        total = sum(
            _cam(net, module, _noisy(x, sigma, generator), target, True) for _ in range(samples)
        )
        return (total / samples).cpu().numpy()
    raise ValueError(f"unknown gradient method {method!r}")
