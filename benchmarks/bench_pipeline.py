"""Throughput of each pipeline stage on the demo images replicated to a few hundred.

Run `make bench` (it builds the demo manifest first), or
    python benchmarks/bench_pipeline.py [--images 300] [--manifest results/datasets/demo/manifest.tsv]

Reports images/s for detection+landmarks, mask rendering and embedding (batched vs one call per
image), scores/s for 1:N (one matrix product vs a Python loop), and the cost of a 1:1 comparison in
the cached pipeline vs the naive per-pair way (detect and embed both images for every pair, as
deepface's `verify` does). Timings are wall-clock on this machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import FaceDetector
from maskaudit.imageio import read_rgb
from maskaudit.masks import MaskSpec, render_mask
from maskaudit.models import load_model
from maskaudit.protocol.reference import distance_matrix


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default="results/datasets/demo/manifest.tsv")
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--pairs", type=int, default=20, help="pairs timed the naive way")
    args = ap.parse_args()

    manifest = read_manifest(args.manifest)
    base = [read_rgb(p) for p in manifest.path]
    images = [base[i % len(base)] for i in range(args.images)]
    detector, model = FaceDetector(), load_model("dlib")
    rows = []

    dets, t = timed(lambda: [detector.detect(img) for img in images])
    rows.append(("detect + 68 landmarks (dlib HOG, max side 800)", args.images / t, "img/s"))
    ok = [(img, d.landmarks) for img, d in zip(images, dets) if d.status == "ok"]

    spec = MaskSpec("surgical", (127, 178, 224))
    rng = np.random.default_rng(0)
    masked, t = timed(lambda: [render_mask(img, lm, spec, rng).image for img, lm in ok])
    rows.append(("mask rendering (surgical, full resolution)", len(ok) / t, "img/s"))

    marks = [lm for _, lm in ok]
    vecs, t_batch = timed(model.embed, masked, marks)
    rows.append(("embedding, batched (dlib ResNet, 150x150 chips)", len(ok) / t_batch, "img/s"))
    n_single = min(60, len(ok))
    _, t_single = timed(lambda: [model.embed([masked[i]], [marks[i]]) for i in range(n_single)])
    rows.append(("embedding, one call per image", n_single / t_single, "img/s"))

    rng = np.random.default_rng(1)
    gallery = np.repeat(vecs, -(-10_000 // len(vecs)), axis=0)[:10_000] + rng.normal(
        0, 0.01, (10_000, vecs.shape[1])
    )
    probes = gallery[:1_000] + rng.normal(0, 0.05, (1_000, vecs.shape[1]))
    _, t_mat = timed(distance_matrix, probes, gallery, "euclidean")
    rows.append(
        (
            "1:N scores, one matrix product (1,000 x 10,000)",
            probes.shape[0] * gallery.shape[0] / t_mat,
            "scores/s",
        )
    )
    n_loop = 20_000
    _, t_loop = timed(
        lambda: [np.linalg.norm(probes[k % 1_000] - gallery[k % 10_000]) for k in range(n_loop)]
    )
    rows.append(("1:N scores, Python loop over pairs", n_loop / t_loop, "scores/s"))

    # 1:1 per comparison: naive = detect both + embed both for every pair; cached = one embedding
    # per image (detection reused) + a vectorised distance.
    n = min(args.pairs, len(ok))

    def naive():
        for k in range(n):
            a, b = images[k], images[(k + 7) % len(images)]
            da, db = detector.detect(a), detector.detect(b)
            model.embed([a, b], [da.landmarks, db.landmarks])

    _, t_naive = timed(naive)
    # detect once + embed once, amortised over all its pairs
    per_image = 1 / rows[0][1] + 1 / rows[2][1]
    pairs_per_image = 7  # demo protocol: 1 same-image + ~1 mated + 5 impostors per probe
    cached = per_image / pairs_per_image
    rows.append(("1:1 comparison, naive per pair (detect+embed both)", n / t_naive, "pairs/s"))
    rows.append(
        (
            "1:1 comparison, cached pipeline (derived: detect + embed once per image, 7 pairs/image)",
            1 / cached,
            "pairs/s",
        )
    )

    print(
        f"maskaudit benchmark: {args.images} decoded images in memory ({len(base)} demo faces replicated), "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, single process\n"
    )
    print("| stage | throughput | unit |\n|---|---:|---|")
    for name, value, unit in rows:
        print(f"| {name} | {value:,.1f} | {unit} |")
    print(
        f"\nratios: batched/one-call embedding x{rows[2][1] / rows[3][1]:.2f}; "
        f"matrix/loop 1:N x{rows[4][1] / rows[5][1]:,.0f}; cached/naive 1:1 x{(1 / cached) / (n / t_naive):.1f}"
    )


if __name__ == "__main__":
    main()
