"""Explain a seeded sample of a dataset's images with one system, under one variant.

The sample (:func:`sample_images`) is drawn once per dataset from the unmasked baseline's acquired
images, seeded by (seed, dataset), so every system and variant explains the same photos and the
shift from unmasked to masked is paired per photo. Each image gets one row: ``ok`` with its map, or
the reason it has none (the mask's or the dataset's failure from the variant manifest, the model's
``model_no_face``, ``no_reference`` when the unmasked reference embedding failed, ``unreadable``).

The map lives on the network's input grid (``maps``, one size per model); ``to_image`` is the affine
from that grid to the stored image (:mod:`maskaudit.explain.geometry`), and ``shares`` the region
shares of the map moved there (:mod:`maskaudit.explain.regions`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from maskaudit.explain import BLACK_BOX_METHODS, GRADIENT_METHODS, REGIONS, geometry, methods
from maskaudit.explain.result import empty_result, finish, record_map
from maskaudit.imageio import try_read_rgb
from maskaudit.progress import progress
from maskaudit.seeding import derive_seed, rng_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    method: str
    layer: str | None = None
    seed: int = 0
    batch_size: int = 64
    occlusion: dict = field(
        default_factory=lambda: {"patch": 0.25, "stride": 0.125, "fill": "mean"}
    )
    rise: dict = field(default_factory=lambda: {"masks": 500, "cells": 7, "p": 0.5, "fill": "mean"})
    smooth: dict = field(default_factory=lambda: {"samples": 16, "sigma": 0.1})
    region_grow: float = 0.1


def sample_images(
    table: pd.DataFrame, landmarks: dict, n: int, seed: int, dataset: str
) -> list[str]:
    """``n`` image ids (sorted) drawn without replacement from the acquired rows of the baseline table."""
    ok = sorted(
        i
        for i, s in zip(table.image_id, table.status)
        if s == "ok" and i in landmarks and np.isfinite(landmarks[i]).all()
    )
    if n >= len(ok):
        return ok
    pick = rng_for(seed, "explain-sample", dataset).choice(len(ok), size=n, replace=False)
    return sorted(ok[k] for k in pick)


def torch_network(model):
    """The PyTorch network of a deepface model (``client.model``) and the client, or ``(None, None)``."""
    client = getattr(model, "client", None)
    try:
        import torch
    except ImportError:
        return None, None
    net = getattr(client, "model", None)
    return (net, client) if isinstance(net, torch.nn.Module) else (None, None)


def check_method(model, settings: Settings) -> None:
    if settings.method in GRADIENT_METHODS:
        if torch_network(model)[0] is None:
            raise ValueError(
                f"{model.card.id} has no PyTorch network, so {settings.method!r} cannot run on it; "
                f"use one of {BLACK_BOX_METHODS} (explain.black_box_method)"
            )
        if settings.method != "smoothgrad" and not settings.layer:
            raise ValueError(
                f"{settings.method!r} needs a layer: set explain.overrides.{model.card.id}.layer"
            )
    elif settings.method not in BLACK_BOX_METHODS:
        raise ValueError(f"unknown explanation method {settings.method!r}")


def explain_crop(
    model, crop: np.ndarray, reference: np.ndarray, settings: Settings, seed: int
) -> tuple[np.ndarray, float]:
    """The map of one face crop on the network's input grid, and the target's value on the crop."""
    ref = np.asarray(reference, np.float64) / np.linalg.norm(reference)
    w, h = model.card.input_size
    if settings.method in GRADIENT_METHODS:
        import torch

        net, client = torch_network(model)
        x = client.to_tensor(model.prepare([crop]))
        r = torch.as_tensor(ref, dtype=x.dtype, device=x.device)[None]
        target = lambda emb: (emb.reshape(len(emb), -1) * r).sum(1)  # noqa: E731  <f(x), r/|r|>
        gen = torch.Generator().manual_seed(seed)
        sal = methods.gradient_map(
            net, x, target, settings.method, layer=settings.layer, generator=gen, **settings.smooth
        )[0]
        with torch.no_grad():
            value = float(target(net(x))[0])
        return sal.astype(np.float32), value

    def score(crops):  # cos(f(x), r), every copy through the model's public batched entry point
        e = model.represent(list(crops)).astype(np.float64)
        return e @ ref / np.linalg.norm(e, axis=1)

    if settings.method == "occlusion":  # the photo is scored in the same batched pass as its copies
        o = settings.occlusion
        sal, value = methods.occlusion_map(
            score,
            crop,
            patch=o["patch"],
            stride=o["stride"],
            fill=o["fill"],
            batch_size=settings.batch_size,
            with_score=True,
        )
    else:
        r = settings.rise
        sal, value = methods.rise_map(
            score,
            crop,
            n_masks=r["masks"],
            cells=r["cells"],
            p=r["p"],
            fill=r["fill"],
            batch_size=settings.batch_size,
            rng=np.random.default_rng(seed),
            with_score=True,
        )
    # onto the input grid: the inverse of the resize from crop to input
    to_input = geometry.invert(geometry.input_to_crop(crop.shape, (w, h)))
    return geometry.warp(sal, to_input, (h, w)), value


def explain_images(
    model,
    table: pd.DataFrame,
    landmarks: dict,
    references: dict,
    sample: list[str],
    settings: Settings,
    *,
    dataset: str,
    located: dict | None = None,
) -> dict:
    """Maps, affines, region shares and target values for the ``sample`` rows of a variant ``table``."""
    check_method(model, settings)
    w, h = model.card.input_size
    out = empty_result(sample, (w, h))
    rows = table.set_index("image_id")
    for k, image_id in enumerate(progress(sample, desc=f"explain {model.card.id}", unit="img")):
        row = rows.loc[image_id] if image_id in rows.index else None
        if row is None or row.status != "ok":
            out["status"][k] = "missing" if row is None else row.status
            continue
        ref = references.get(image_id)
        if ref is None or not np.isfinite(ref).all():
            out["status"][k], out["detail"][k] = (
                "no_reference",
                "the unmasked reference embedding failed",
            )
            continue
        rgb, failed = try_read_rgb(row.path)
        if failed:
            out["status"][k], out["detail"][k] = failed.reason, str(failed)
            continue
        lm = landmarks.get(image_id)
        loc = (located or {}).get(image_id)
        if model.alignment == "end_to_end" and loc is None:
            loc = model.locator.locate(rgb)  # the ramp must be cut with the photo's own detection
        face = model.acquire(rgb, lm, loc)
        if face.status != "ok":
            out["status"][k], out["detail"][k] = face.status, face.detail
            continue
        crop = np.asarray(face.crop, np.float64)
        sal, value = explain_crop(
            model, crop, ref, settings, derive_seed(settings.seed, "explain", dataset, image_id)
        )
        to_image = geometry.compose(
            geometry.crop_to_image(model, rgb.shape, lm, loc),
            geometry.input_to_crop(crop.shape, (w, h)),
        )
        record_map(out, k, sal, to_image, value, rgb.shape, lm, settings.region_grow)
    return finish(out)


def save_explanations(path, result: dict, meta: dict) -> None:
    np.savez_compressed(
        path, **result, regions=np.array(REGIONS), meta=np.array(json.dumps(meta, sort_keys=True))
    )


def load_explanations(path) -> dict:
    with np.load(path) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out


def settings_meta(settings: Settings) -> dict:
    return asdict(settings)


def settings_for(card, explain: dict) -> Settings:
    """A system's settings from the config's ``explain`` section: the gradient method for PyTorch
    networks (layer: the card's ``saliency_layer``), the black-box method otherwise; ``overrides`` win.
    Only the chosen method's parameters are kept, so changing another method's reruns nothing."""
    over = (explain.get("overrides") or {}).get(card.id, {})
    default = explain["gradient_method"] if card.family == "torch" else explain["black_box_method"]
    method = over.get("method", default)
    return Settings(
        method=method,
        layer=over.get("layer", card.saliency_layer) if method in GRADIENT_METHODS else None,
        seed=int(explain["seed"]),  # a vendor compares one pair per request: no batches
        batch_size=int(explain["batch_size"])
        if method in BLACK_BOX_METHODS and card.kind != "comparison"
        else 0,
        occlusion=dict(explain["occlusion"]) if method == "occlusion" else {},
        rise=dict(explain["rise"]) if method == "rise" else {},
        smooth=dict(explain["smooth"]) if method in ("smoothgrad", "smooth_gradcampp") else {},
        region_grow=float(explain["region_grow"]),
    )
