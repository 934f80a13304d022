"""Occlusion and RISE maps of the commercial APIs (comparison-only systems, :mod:`maskaudit.vendors`).

A vendor compares two images; it does not embed. The target is the vendor's own 1:1 score, as a
similarity (``-distance`` for FaceX), between the explained photo and its **unmasked reference**:
the dataset's original photo of the same image id, the reference of the re-identification pair every
``compare_vendor`` job sends. The probe sent is the **stored photo** of the variant (the whole
image, prepared exactly as :func:`maskaudit.vendors.images.prepare` sends it), so the unperturbed
probe is byte-identical to the one the comparison job sent and its answer comes from the cache.

**Where the map lives.** Perturbations cover the *face box*: the box of the 68 landmarks grown by
``margin`` x its larger side on every side, clipped to the photo. The map is computed on a
``card.input_size`` grid laid over that box (occlusion patches and RISE cells are fractions of the
box side, like the crop of the other systems); ``to_image`` is the axis-aligned affine from that grid
to the stored photo, so the map is in **image coordinates**. Pixels outside the box are never hidden
and get no mass. Each copy is the photo with the box's pixels blended towards the fill colour by the
upsampled mask (nearest for occlusion patches, bilinear for RISE), re-encoded as the vendor gets it.

**Cost.** No vendor's 1:1 API takes more than one pair per request, so a map is ``K + 1`` compare
requests (the photo and its ``K`` copies; Azure adds a ``detect`` per copy and one for the reference).
Every request goes through :class:`~maskaudit.vendors.client.VendorClient`: the response cache (a
rerun sends nothing), the spend ledger and hard cap, the rate limit and retries. The only work per
copy besides its request is building and JPEG-encoding it. Before a photo's first request the job
counts what its copies still need (cache hits excluded, :meth:`Adapter.compare_calls`); when the caps
do not leave that much, the photo is **not started** and gets status ``vendor_budget`` with the
numbers (so no partial map is paid for). If the ledger refuses a request mid-way (another job spent
the room, retries), the photo gets ``vendor_budget`` too; the answers already received are cached.
A photo the vendor finds no face in (unperturbed) fails with the vendor's reason after one request.
A copy the vendor finds no face in is scored with the bottom of the vendor's similarity scale
(:data:`SCORE_FLOOR`: 0 for Rekognition, Azure and Face++; FaceX's distance has no documented
maximum, so there the lowest score of the photo and its scored copies;
:func:`~maskaudit.explain.methods.floor_missing`): hiding that part cost the face, the largest drop
the vendor can show. How many copies per photo is ``copies_failed``.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pandas as pd

from maskaudit.explain import methods
from maskaudit.explain.result import empty_result, finish, record_map
from maskaudit.imageio import ImageReadError, read_rgb
from maskaudit.progress import progress
from maskaudit.seeding import derive_seed
from maskaudit.vendors.errors import BudgetExceeded, ImageRejected, Unavailable
from maskaudit.vendors.images import Prepared, prepare, prepare_array
from maskaudit.vendors.prices import price

log = logging.getLogger(__name__)
MARGIN = 0.25
SCORE_FLOOR = {"rekognition": 0.0, "azure": 0.0, "facepp": 0.0, "facex": None}  # as similarities


def face_box(landmarks: np.ndarray, shape, margin: float = MARGIN) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` (x1, y1 exclusive): the landmarks' box grown by ``margin`` x its larger side."""
    lm = np.asarray(landmarks, float)
    lo, hi = lm.min(0), lm.max(0)
    pad = margin * float((hi - lo).max())
    x0, y0 = np.maximum(0, np.floor(lo - pad)).astype(int)
    x1, y1 = np.minimum([shape[1], shape[0]], np.ceil(hi + pad) + 1).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def grid_to_image(box, grid) -> np.ndarray:
    """The affine from a ``grid`` = (width, height) laid over ``box`` to the photo (pixel centres)."""
    x0, y0, x1, y1 = box
    sx, sy = (x1 - x0) / grid[0], (y1 - y0) / grid[1]
    return np.array([[sx, 0, x0 + 0.5 * sx - 0.5], [0, sy, y0 + 0.5 * sy - 0.5]])


def perturbation_masks(settings, grid, rng: np.random.Generator) -> np.ndarray:
    """``(K, h, w)`` masks on the grid: occlusion patches (bool, True = hidden) or RISE masks (kept)."""
    w, h = grid
    if settings.method == "occlusion":
        o = settings.occlusion
        return methods.occlusion_masks(h, w, o["patch"], o["stride"])
    if settings.method == "rise":
        r = settings.rise
        return methods.rise_masks(h, w, r["masks"], r["cells"], r["p"], rng)
    raise ValueError(
        f"a commercial API has no gradients: use occlusion or rise, not {settings.method!r}"
    )


def prepared_copies(rgb: np.ndarray, box, masks: np.ndarray, settings, limits) -> list[Prepared]:
    """The photo (first, byte-identical to :func:`prepare` of the stored file) and its ``K`` copies, as sent."""
    x0, y0, x1, y1 = box
    part = rgb[y0:y1, x0:x1].astype(np.float32)
    fill = (settings.occlusion if settings.method == "occlusion" else settings.rise)["fill"]
    colour = (methods.fill_value(part / 255.0, fill) * 255.0).astype(np.float32)
    occlusion = masks.dtype == bool
    out = [prepare_array(rgb, limits)]
    copy = rgb.copy()
    for m in masks:  # one JPEG per copy: the bytes its request carries
        keep = (~m).astype(np.float32) if occlusion else m
        keep = cv2.resize(
            keep,
            (x1 - x0, y1 - y0),
            interpolation=cv2.INTER_NEAREST if occlusion else cv2.INTER_LINEAR,
        )[..., None]
        copy[y0:y1, x0:x1] = np.clip(np.rint(part * keep + colour * (1 - keep)), 0, 255).astype(
            np.uint8
        )
        out.append(prepare_array(copy, limits))
    return out


def requests_needed(
    adapter, copies: list[Prepared], reference: Prepared, detected: set | None = None
) -> dict:
    """Requests by billed operation that comparing every copy with ``reference`` would send now."""
    detected = set() if detected is None else detected
    total: dict[str, int] = {}
    for c in copies:
        for op, n in adapter.compare_calls(c, reference, detected).items():
            total[op] = total.get(op, 0) + n
    return total


def photo_requests(adapter, photo: dict) -> dict:
    """Requests a loaded photo's map would send now. None when the vendor is already known (cached) to
    find no face in the unperturbed photo (the job stops after that answer). When the unperturbed
    photo's answer is not cached, no copy was ever sent (it is always sent first), so each copy costs
    a fresh compare (Azure: detect + verify) and the copies need not be built; else every copy is
    built, hashed as sent and looked up."""
    base, reference = photo["base"], photo["reference"]
    hit = adapter.client.cache.get(adapter.compare_key(base, reference))
    if hit is not None and hit["status"] != "ok":
        return {}
    if hit is None and adapter.known_failure({"probe": base, "reference": reference}) is not None:
        return {}
    if hit is None:
        detected: set = set()
        total = dict(adapter.compare_calls(base, reference, detected))
        for k in range(len(photo["masks"])):  # stand-ins: copies never sent have no cached answer
            stand_in = Prepared(b"", f"unsent-copy-{k}-of-{base.sha256}", {})
            for op, n in adapter.compare_calls(stand_in, reference, detected).items():
                total[op] = total.get(op, 0) + n
        return total
    return requests_needed(adapter, photo_copies(photo, adapter.limits), reference)


def photo_copies(photo: dict, limits) -> list[Prepared]:
    """The photo and its copies as sent (built once per loaded photo)."""
    if "copies" not in photo:
        photo["copies"] = prepared_copies(
            photo["rgb"], photo["box"], photo["masks"], photo["settings"], limits
        )
    return photo["copies"]


def cost(vendor: str, requests: dict) -> tuple[int, float]:
    return sum(requests.values()), sum(n * price(vendor, op) for op, n in requests.items())


def room(adapter) -> tuple[float, float]:
    """Calls and USD the vendor's caps still leave (``inf`` where uncapped)."""
    calls, usd = adapter.client.ledger.spent(adapter.vendor)
    cap = adapter.client.cap
    return (
        np.inf if cap.max_calls is None else cap.max_calls - calls,
        np.inf if cap.max_usd is None else cap.max_usd - usd,
    )


class Photos:
    """The sample's photos as a vendor job reads them: stored probe, landmarks, box and reference."""

    def __init__(
        self,
        adapter,
        table: pd.DataFrame,
        gallery: pd.DataFrame,
        landmarks: dict,
        sample: list[str],
        settings,
        grid,
        dataset: str,
    ):
        self.adapter, self.settings, self.grid, self.dataset = adapter, settings, grid, dataset
        self.rows = table.set_index("image_id")
        self.gallery = gallery.set_index("image_id")
        self.landmarks, self.sample = landmarks, sample

    def load(self, image_id: str) -> dict:
        """``{"status": "ok", rgb, lm, box, reference, base, masks, settings}`` or ``{"status", "detail"}``;
        the copies are built on demand (:func:`photo_copies`)."""
        row = self.rows.loc[image_id] if image_id in self.rows.index else None
        if row is None or row.status != "ok":
            return {"status": "missing" if row is None else row.status, "detail": ""}
        ref = self.gallery.loc[image_id] if image_id in self.gallery.index else None
        if ref is None or ref.status != "ok":
            return {
                "status": "no_reference",
                "detail": "the unmasked original failed before the vendor",
            }
        lm = self.landmarks.get(image_id)
        try:
            rgb = read_rgb(row.path)
            reference = prepare(ref.path, self.adapter.limits)
            # = the stored file as compare_vendor sends it
            base = prepare_array(rgb, self.adapter.limits)
        except (ImageReadError, ImageRejected) as exc:
            return {"status": exc.reason, "detail": str(exc)}
        box = face_box(lm, rgb.shape)
        rng = np.random.default_rng(
            derive_seed(self.settings.seed, "explain", self.dataset, image_id)
        )
        masks = perturbation_masks(self.settings, self.grid, rng)
        return {
            "status": "ok",
            "rgb": rgb,
            "lm": lm,
            "box": box,
            "reference": reference,
            "base": base,
            "masks": masks,
            "settings": self.settings,
        }

    def plan(self) -> dict:
        """Requests by operation that mapping every photo of the sample would send now (the cache and the
        unperturbed photo's cached answer considered: a photo the vendor found no face in costs nothing)."""
        total: dict[str, int] = {}
        for image_id in self.sample:
            photo = self.load(image_id)
            if photo["status"] != "ok":
                continue
            for op, n in photo_requests(self.adapter, photo).items():
                total[op] = total.get(op, 0) + n
        return total


def explain_vendor(
    vendor: str,
    vendor_settings: dict,
    cache_dir,
    card,
    table: pd.DataFrame,
    gallery: pd.DataFrame,
    landmarks: dict,
    sample: list[str],
    settings,
    *,
    dataset: str,
    **adapter_extra,
) -> tuple[dict, dict]:
    """One (vendor, dataset, variant) explanation job: ``(result, meta)`` for
    :func:`~maskaudit.explain.run.save_explanations`. An authentication error stops the job."""
    from maskaudit.vendors.registry import open_adapter

    adapter = open_adapter(vendor, vendor_settings, cache_dir, **adapter_extra)
    plan = Photos(
        adapter, table, gallery, landmarks, sample, settings, card.input_size, dataset
    ).plan()
    calls, usd = cost(vendor, plan)
    log.info(
        "%s: the maps need %d requests now (%s, $%.4f at list prices)", vendor, calls, plan, usd
    )
    result = explain_vendor_images(
        adapter, card, table, gallery, landmarks, sample, settings, dataset=dataset
    )
    meta = {
        **describe(adapter, card, settings),
        "plan_before_run": {"requests": plan, "n_calls": calls, "usd": round(usd, 6)},
        **adapter.client.counters.as_dict(),
    }
    return result, meta


def explain_vendor_images(
    adapter,
    card,
    table: pd.DataFrame,
    gallery: pd.DataFrame,
    landmarks: dict,
    sample: list[str],
    settings,
    *,
    dataset: str,
) -> dict:
    """Maps, affines, region shares and target values of the ``sample`` under one variant ``table``
    (the same arrays as :func:`maskaudit.explain.run.explain_images`, plus ``copies_failed`` and
    ``requests``: the requests sent for each photo)."""
    w, h = card.input_size
    sign = 1.0 if adapter.raw_direction == "higher_is_same" else -1.0
    photos = Photos(adapter, table, gallery, landmarks, sample, settings, (w, h), dataset)
    n = len(sample)
    out = empty_result(
        sample, (w, h), copies_failed=np.zeros(n, np.int32), requests=np.zeros(n, np.int32)
    )
    unavailable = None
    for k, image_id in enumerate(progress(sample, desc=f"explain {adapter.vendor}", unit="img")):
        if unavailable is not None:
            out["status"][k], out["detail"][k] = "vendor_unavailable", unavailable
            continue
        photo = photos.load(image_id)
        if photo["status"] != "ok":
            out["status"][k], out["detail"][k] = photo["status"], photo.get("detail", "")
            continue
        need_calls, need_usd = cost(adapter.vendor, photo_requests(adapter, photo))
        left_calls, left_usd = room(adapter)
        if need_calls > left_calls or need_usd > left_usd + 1e-12:
            out["status"][k] = "vendor_budget"
            out["detail"][k] = (
                f"the photo and its {len(photo['masks'])} copies need {need_calls} requests "
                f"(${need_usd:.4f}) but the caps vendors.{adapter.vendor}.max_calls/max_usd leave "
                f"{left_calls} / ${left_usd:.4f}; nothing was sent for it. Fix: raise the caps "
                f"(`maskaudit vendors plan`)"
            )
            log.warning("%s %s: not mapped: %s", adapter.vendor, image_id, out["detail"][k])
            continue
        before, reference = adapter.client.counters.calls, photo["reference"]
        try:
            records = [adapter.compare(photo["base"], reference)]
            if records[0]["status"] == "ok":
                try:
                    copies = photo_copies(photo, adapter.limits)
                # a copy the vendor would refuse (never: same size as the photo)
                except ImageRejected as exc:
                    out["status"][k], out["detail"][k] = exc.reason, str(exc)
                    continue
                records += [adapter.compare(c, reference) for c in copies[1:]]
        except BudgetExceeded as exc:
            out["status"][k], out["detail"][k] = "vendor_budget", f"stopped mid-map: {exc}"
            out["requests"][k] = adapter.client.counters.calls - before
            log.warning("%s %s: %s", adapter.vendor, image_id, out["detail"][k])
            continue
        except Unavailable as exc:
            unavailable = str(exc)
            out["status"][k], out["detail"][k] = "vendor_unavailable", unavailable
            continue
        out["requests"][k] = adapter.client.counters.calls - before
        if records[0]["status"] != "ok":
            out["status"][k], out["detail"][k] = records[0]["status"], records[0].get("detail", "")
            continue
        base = sign * records[0]["raw"]
        scores = np.array([sign * r["raw"] if r["status"] == "ok" else np.nan for r in records[1:]])
        scores, out["copies_failed"][k] = methods.floor_missing(
            base, scores, SCORE_FLOOR.get(adapter.vendor)
        )
        masks = photo["masks"]
        sal = (
            methods.occlusion_from_scores(base, scores, masks)
            if settings.method == "occlusion"
            else methods.rise_from_scores(scores, masks, settings.rise["p"])
        )
        to_image = grid_to_image(photo["box"], (w, h))
        shape, lm = photo["rgb"].shape, photo["lm"]
        record_map(out, k, sal, to_image, base + 0.0, shape, lm, settings.region_grow)
    return finish(out)


def describe(adapter, card, settings) -> dict:
    """What the maps of a vendor depend on, for the explanation file's ``meta``."""
    return {
        "model": card.id,
        "name": card.name,
        "kind": card.kind,
        "model_info": adapter.model_info(),
        "raw_direction": adapter.raw_direction,
        "pipeline": {
            "alignment": "vendor",
            "input_size": list(card.input_size),
            "box_margin": MARGIN,
            "map_on": "the stored photo (image coordinates): a grid over the landmarks' box grown by "
            f"{MARGIN:g} x its side; the whole photo is sent",
            "image_limits": vars(adapter.limits),
        },
    }
