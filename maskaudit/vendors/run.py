"""One (vendor, dataset, variant): which comparisons to send, sending them, and the comparisons arrays.

What is sent, under the budget:

* **1:1**: :func:`maskaudit.vendors.pairs.vendor_pairs`: every probe vs its own original
  (re-identification), vs the other photos of its identity (mated), and a seeded sample of impostors,
  the same pairs for every vendor and variant. An image the vendor found no face in is not sent again
  for its remaining pairs.
* **1:N**: through the vendor's own search where it has one (``identification: search``): a gallery
  of the acquired unmasked images, named by run id and deleted in ``finally``; each probe searched
  once for ``top_k`` candidates. Without a search (FaceX) or with ``identification: matrix``, 1:N
  comes from the full probe x gallery matrix of 1:1 calls, **only if** the remaining budget covers
  it; otherwise it is recorded as not run, with the reason. Images that failed before the vendor
  (dataset detection, mask rendering) are never sent and keep their reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from maskaudit.imageio import ImageReadError
from maskaudit.progress import progress
from maskaudit.vendors.base import Adapter, without_userinfo
from maskaudit.vendors.errors import BudgetExceeded, ImageRejected, Unavailable
from maskaudit.vendors.images import RECIPE, Prepared, prepare
from maskaudit.vendors.pairs import vendor_pairs
from maskaudit.vendors.prices import PRICES_VERSION, price

log = logging.getLogger(__name__)


def new_run_id(dataset: str, variant: str) -> str:
    """Unique per job: names the vendor-side gallery (``maskaudit-<run id>``) so cleanup can find it."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}-{dataset}-{variant}"[:54]


@dataclass
class Side:
    ids: list[str]
    status: list[str]
    images: list[Prepared | None]
    downscaled: dict = field(default_factory=dict)


def _prepare_side(table: pd.DataFrame, adapter: Adapter) -> Side:
    ids, status, images, downscaled = [], [], [], {}
    for row in table.itertuples():
        ids.append(row.image_id)
        image, st = None, row.status
        if st == "ok":
            try:
                image = prepare(row.path, adapter.limits)
                if image.record["downscaled"]:
                    downscaled[row.image_id] = image.record
            except ImageReadError as exc:
                st = exc.reason
            except ImageRejected as exc:
                st = exc.reason
        status.append(st)
        images.append(image)
    return Side(ids, status, images, downscaled)


class VariantJob:
    def __init__(
        self,
        adapter: Adapter,
        probes: pd.DataFrame,
        gallery: pd.DataFrame,
        pairs: pd.DataFrame,
        *,
        identification: str,
        top_k: int,
    ):
        self.adapter, self.identification, self.top_k = adapter, identification, top_k
        self.probes = _prepare_side(probes, adapter)
        self.gallery = _prepare_side(gallery, adapter)
        p_index = {i: k for k, i in enumerate(self.probes.ids)}
        g_index = {i: k for k, i in enumerate(self.gallery.ids)}
        seen, self.pairs = set(), []
        for p, g in zip(pairs.probe_id, pairs.ref_id):
            cell = (p_index[p], g_index[g])
            if cell not in seen:
                seen.add(cell)
                self.pairs.append(cell)
        P, G = len(self.probes.ids), len(self.gallery.ids)
        self.raw = np.full((P, G), np.nan)
        self.planned = np.zeros((P, G), dtype=bool)  # the 1:1 cells this job was asked to compare
        self.search_raw = np.full((P, G), np.nan)
        self.search_probe_status = ["not_run"] * P
        self.search_gallery_status = ["not_run"] * G
        self.id_info: dict = {}
        self.vendor_thresholds: dict[
            str, int
        ] = {}  # distinct per-response thresholds -> how many scores

    # -- planning ---------------------------------------------------------------------------------
    @property
    def search_mode(self) -> str:
        if self.identification == "search" and self.adapter.has_search:
            return "search"
        if self.identification in ("search", "matrix"):
            return "matrix"
        return "none"

    def _sendable(self, cells) -> list[tuple[int, int]]:
        return [
            (p, g)
            for p, g in cells
            if self.probes.status[p] == "ok" and self.gallery.status[g] == "ok"
        ]

    def _uncached(self, cells) -> list[tuple[int, int]]:
        a = self.adapter
        keys = [a.compare_key(self.probes.images[p], self.gallery.images[g]) for p, g in cells]
        return [c for c, k in zip(cells, keys) if not a.client.cache.contains(k)]

    def _gallery_items(self) -> list[tuple[int, Prepared]]:
        return [
            (g, img)
            for g, (img, st) in enumerate(zip(self.gallery.images, self.gallery.status))
            if st == "ok"
        ]

    def _digest(self) -> str:
        items = [[g, img.sha256] for g, img in self._gallery_items()]
        return hashlib.sha256(json.dumps(items).encode()).hexdigest()

    def plan(self) -> dict:
        """Calls this job would send now (cache hits excluded) and their list-price estimate."""
        a, v = self.adapter, self.adapter.vendor
        one = self._uncached(self._sendable(self.pairs))
        calls = {"compare": len(one)}
        if v == "azure":
            calls["detect"] = len(
                {
                    s
                    for p, g in one
                    for s in (self.probes.images[p].sha256, self.gallery.images[g].sha256)
                }
            )
        search_calls = {}
        mode = self.search_mode
        if mode == "search":
            digest, k = self._digest(), min(self.top_k, a.max_candidates)
            todo = [
                p
                for p, img in enumerate(self.probes.images)
                if img is not None and not a.search_resolved(img, k, digest)
            ]
            G = len(self._gallery_items())
            if todo:
                search_calls = {"create_gallery": 1, "search": len(todo), "delete_gallery": 1}
                if v == "rekognition":
                    search_calls["enroll"] = G
                elif v == "azure":
                    search_calls.update(
                        add_person=G, enroll=G, train=1, training_status=1, detect=len(todo)
                    )
                elif v == "facepp":
                    search_calls.update(detect=G, enroll=math.ceil(G / 5))
        matrix_extra = 0
        if mode == "matrix":
            all_cells = self._sendable(
                [(p, g) for p in range(len(self.probes.ids)) for g in range(len(self.gallery.ids))]
            )
            matrix_extra = len(self._uncached([c for c in all_cells if c not in set(self.pairs)]))
        total = {**calls}
        for op, n in search_calls.items():
            total[op] = total.get(op, 0) + n
        usd = sum(n * price(v, op) for op, n in total.items())
        return {
            "vendor": v,
            "pairs": len(self.pairs),
            "pairs_sendable": len(self._sendable(self.pairs)),
            "calls": total,
            "n_calls": sum(total.values()),
            "usd": round(usd, 6),
            "identification": mode,
            "matrix_extra_calls": matrix_extra,
            "matrix_extra_usd": round(matrix_extra * price(v, "compare"), 6),
            "prices_version": PRICES_VERSION,
        }

    # -- sending ----------------------------------------------------------------------------------
    def _compare_cells(self, cells, desc: str) -> None:
        a = self.adapter
        for p, g in progress(cells, desc=desc, unit="pair"):
            self.planned[p, g] = True
            if self.probes.status[p] != "ok" or self.gallery.status[g] != "ok":
                continue  # the vendor already failed on one side: do not pay for it again
            rec = a.compare(self.probes.images[p], self.gallery.images[g])
            if rec["status"] == "ok":
                self.raw[p, g] = rec["raw"]
                if rec.get("thresholds"):  # Face++: thresholds at FMR 1e-3/1e-4/1e-5, per response
                    key = json.dumps(rec["thresholds"], sort_keys=True)
                    self.vendor_thresholds[key] = self.vendor_thresholds.get(key, 0) + 1
                continue
            side = rec.get("side")
            if side is None and hasattr(a, "detect"):
                side = self._which_side(p, g)
            reason = rec["status"]
            if side in ("probe", "both", None):
                self.probes.status[p] = reason
            if side in ("reference", "both"):
                self.gallery.status[g] = reason

    def _which_side(self, p: int, g: int) -> str | None:
        """Rekognition does not say which image had no face: ask ``DetectFaces`` (cached per image)."""
        try:
            probe_ok = self.adapter.detect(self.probes.images[p])["status"] == "ok"
            ref_ok = self.adapter.detect(self.gallery.images[g])["status"] == "ok"
        except NotImplementedError:
            return None
        if probe_ok and ref_ok:
            return "probe"  # both have a face yet comparison failed: charged to the probe
        return "both" if not (probe_ok or ref_ok) else ("reference" if probe_ok else "probe")

    def _search(self, run_id: str) -> None:
        a = self.adapter
        k, digest = min(self.top_k, a.max_candidates), self._digest()
        items = self._gallery_items()
        # probes the vendor already found no face in (1:1) are not searched: same image, same answer
        probes = [
            (p, img) for p, img in enumerate(self.probes.images) if self.probes.status[p] == "ok"
        ]
        enroll_key = a.key("enrollment", {}, [], gallery=digest)
        if all(a.search_resolved(img, k, digest) for _, img in probes) and a.client.cache.contains(
            enroll_key
        ):
            enrolled = a.client.cached(enroll_key)["enrolled"]
            results = [(p, self._resolved_search(img, k, digest)) for p, img in probes]
        else:
            with a.gallery(run_id, items, digest) as gallery:
                results = [
                    (p, gallery.search(img, k))
                    for p, img in progress(probes, desc="search", unit="probe")
                ]
                enrolled = {str(g): st for g, st in gallery.enrolled.items()}
                model = getattr(gallery, "face_model_version", "")
                a.client.cache.put(
                    enroll_key,
                    a.vendor,
                    "enrollment",
                    {"status": "ok", "enrolled": enrolled, "gallery_model_version": model},
                )
        for g in range(len(self.gallery.ids)):
            self.search_gallery_status[g] = enrolled.get(
                str(g), self.gallery.status[g] if self.gallery.status[g] != "ok" else "not_run"
            )
        for p, rec in results:
            self.search_probe_status[p] = rec["status"]
            for g, raw in rec.get("candidates", []):
                self.search_raw[p, g] = raw
        for p, st in enumerate(self.probes.status):
            if st != "ok":
                self.search_probe_status[p] = st
        model = (a.client.cache.get(enroll_key) or {}).get("gallery_model_version", "")
        self.id_info = {
            "method": "vendor_search",
            "array": "search_similarity",
            "top_k": k,
            "gallery_model_version": model,
            "reason": f"{a.vendor}'s own search, top {k} candidates per probe",
        }

    def _resolved_search(self, img: Prepared, k: int, digest: str) -> dict:
        a = self.adapter
        hit = a.client.cached(a.search_key(img, k, digest))
        if hit is not None:
            return hit
        return a.known_failure({"probe": img})  # Azure: a cached "no face" detect answer

    def run(self, run_id: str) -> None:
        a = self.adapter
        log.info("%s: plan %s", a.vendor, json.dumps(self.plan(), sort_keys=True))
        self._compare_cells(self.pairs, f"{a.vendor} 1:1")
        mode = self.search_mode
        if mode == "search":
            self._search(run_id)
        elif mode == "matrix":
            self._matrix()
        else:
            self.id_info = {
                "method": "not_run",
                "array": None,
                "reason": f"vendors.{a.vendor}.identification is none",
            }

    def _matrix(self) -> None:
        a = self.adapter
        cells = [(p, g) for p in range(len(self.probes.ids)) for g in range(len(self.gallery.ids))]
        todo = self._uncached([c for c in self._sendable(cells) if np.isnan(self.raw[c])])
        calls, usd = a.client.ledger.spent(a.vendor)
        cap = a.client.cap
        room_calls = math.inf if cap.max_calls is None else cap.max_calls - calls
        room_usd = math.inf if cap.max_usd is None else cap.max_usd - usd
        need_usd = len(todo) * price(a.vendor, "compare")
        why = "no 1:N search in this adapter" if not a.has_search else "identification: matrix"
        if len(todo) > room_calls or need_usd > room_usd + 1e-12:
            self.id_info = {
                "method": "not_run",
                "array": None,
                "reason": (
                    f"{why}; the full {len(self.probes.ids)}x{len(self.gallery.ids)} matrix needs {len(todo)} more "
                    f"calls (${need_usd:.4f}) but the budget has {room_calls} calls / ${room_usd:.4f} left"
                ),
            }
            log.warning("%s: 1:N not run: %s", a.vendor, self.id_info["reason"])
            return
        self.planned[:] = True  # the whole matrix was asked for (failed images are not sent again)
        self._compare_cells(
            [c for c in self._sendable(cells) if np.isnan(self.raw[c])], f"{a.vendor} 1:N matrix"
        )
        self.id_info = {
            "method": "compare_matrix",
            "array": "similarity",
            "reason": f"{why}; every probe compared with every gallery image through 1:1 calls",
        }

    # -- results ----------------------------------------------------------------------------------
    def arrays(self) -> dict:
        sign = 1.0 if self.adapter.raw_direction == "higher_is_same" else -1.0
        return {
            "probe_id": self.probes.ids,
            "gallery_id": self.gallery.ids,
            "raw_score": self.raw,
            "similarity": sign * self.raw + 0.0,
            "probe_status": self.probes.status,  # + 0.0: no -0.0
            "gallery_status": self.gallery.status,
            "search_similarity": sign * self.search_raw + 0.0,
            "search_probe_status": self.search_probe_status,
            "search_gallery_status": self.search_gallery_status,
            "planned": self.planned,
        }

    def mark_unavailable(self, reason: str) -> None:
        """The vendor refused the account (e.g. Azure Limited Access): every sendable image fails, charged to it."""
        self.raw[:] = np.nan
        self.search_raw[:] = np.nan
        for side in (self.probes, self.gallery):
            side.status = [
                "vendor_unavailable" if s == "ok" or s.startswith("vendor_") else s
                for s in side.status
            ]
        self.search_probe_status = list(self.probes.status)
        self.search_gallery_status = list(self.gallery.status)
        self.id_info = {"method": "not_run", "array": None, "reason": reason}


def execute(
    vendor: str,
    settings: dict,
    cache_dir: str,
    probes: pd.DataFrame,
    gallery: pd.DataFrame,
    *,
    dataset: str,
    variant: str,
    card,
    seed: int,
    impostors_per_probe: int,
    pairs: pd.DataFrame | None = None,
    **adapter_extra,
) -> tuple[dict, dict]:
    """Run one job end to end; returns ``(arrays, sidecar)`` for
    :func:`~maskaudit.vendors.comparisons.save_comparisons`.

    A Limited Access refusal (:class:`Unavailable`) yields the ``vendor_unavailable`` state for every
    sendable image instead of a crash; a budget stop or an authentication error stops the job.
    """
    from maskaudit.vendors.registry import open_adapter

    if pairs is None:
        pairs = vendor_pairs(
            gallery.image_id,
            gallery.identity,
            seed=seed,
            dataset=dataset,
            impostors_per_probe=impostors_per_probe,
            baseline=variant == "none",
        )
    adapter = open_adapter(vendor, settings, cache_dir, **adapter_extra)
    job = VariantJob(
        adapter,
        probes,
        gallery,
        pairs,
        identification=settings["identification"],
        top_k=settings["top_k"],
    )
    plan = job.plan()
    _refuse_over_budget(adapter, plan)
    run_id = new_run_id(dataset, variant)
    available, reason = True, ""
    try:
        job.run(run_id)
    except Unavailable as exc:
        available, reason = False, str(exc)
        log.error("%s", exc)
        job.mark_unavailable(reason)
    downscaled = {
        **job.probes.downscaled,
        **{f"gallery:{k}": v for k, v in job.gallery.downscaled.items()},
    }
    sidecar = {
        "system": card.id,
        "name": card.name,
        "kind": "comparison",
        "dataset": dataset,
        "variant": variant,
        "available": available,
        "unavailable_reason": reason,
        "similarity_scale": SCALES[vendor],
        "raw_direction": adapter.raw_direction,
        "similarity": "raw" if adapter.raw_direction == "higher_is_same" else "-raw",
        "threshold": card.threshold,
        "threshold_source": card.threshold_source,
        "model_info": adapter.model_info(),
        "identification": job.id_info,
        "vendor_thresholds": [
            {"thresholds": json.loads(k), "n_scores": n} for k, n in job.vendor_thresholds.items()
        ],
        **adapter.client.counters.as_dict(),
        "plan_before_run": plan,
        "image_recipe": RECIPE,
        "limits": vars(adapter.limits),
        "n_downscaled": len(downscaled),
        "downscaled": downscaled,
        "n_probes": len(job.probes.ids),
        "n_gallery": len(job.gallery.ids),
        "n_pairs": len(job.pairs),
        "pairs_by_comparison": {
            str(k): int(v) for k, v in pairs.comparison.value_counts().sort_index().items()
        },
        "impostors_per_probe": impostors_per_probe,
        "seed": seed,
        "n_scored_pairs": int(sum(not np.isnan(job.raw[c]) for c in job.pairs)),
        "probe_failures": _count(job.probes.status),
        "gallery_failures": _count(job.gallery.status),
    }
    log.info(
        "%s: %d calls sent, %d answered from the cache, %d retries",
        vendor,
        sidecar["n_calls"],
        sidecar["cached_calls"],
        sidecar["retries"],
    )
    return job.arrays(), without_userinfo(sidecar)  # an error text may quote the endpoint URL


SCALES = {
    "rekognition": "CompareFaces Similarity, 0-100 (percent), higher = same",
    "azure": "verify confidence, 0-1, higher = same",
    "facepp": "compare confidence, 0-100, higher = same",
    "facex": "match_faces Euclidean distance, lower = same (similarity = -distance)",
}


def _count(statuses: list[str]) -> dict:
    return {s: statuses.count(s) for s in sorted(set(statuses)) if s != "ok"}


def _refuse_over_budget(adapter: Adapter, plan: dict) -> None:
    """Stop before the first call when the plan alone already exceeds what the caps leave."""
    calls, usd = adapter.client.ledger.spent(adapter.vendor)
    cap = adapter.client.cap
    if cap.max_calls is not None and calls + plan["n_calls"] > cap.max_calls:
        raise BudgetExceeded(
            f"{adapter.vendor}: this job needs an estimated {plan['n_calls']} calls but only "
            f"{cap.max_calls - calls} of "
            f"vendors.{adapter.vendor}.max_calls = {cap.max_calls} are left. Nothing was sent. Fix: check "
            f"`maskaudit vendors plan` and raise the cap if the cost is acceptable"
        )
    if cap.max_usd is not None and usd + plan["usd"] > cap.max_usd + 1e-12:
        raise BudgetExceeded(
            f"{adapter.vendor}: this job is estimated at ${plan['usd']:.4f} but only ${cap.max_usd - usd:.4f} of "
            f"vendors.{adapter.vendor}.max_usd = {cap.max_usd} is left. Nothing was sent. Fix: check "
            f"`maskaudit vendors plan` and raise the cap if the cost is acceptable"
        )
