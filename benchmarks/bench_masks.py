"""Mask stage throughput and disk: detection, rendering and writing per face, per variant and storage.

Run after the demo's detection stage (`snakemake results/faces/demo/landmarks.npz`):
    python benchmarks/bench_masks.py [--repeats 3] [--manifest ...] [--landmarks ...]

Single core (OpenCV threads = 1). Landmarks are computed once per image (timed separately as
"detection") and reused by every variant, as in the workflow. For each variant it reports rendering
(`mask_image`: crop + geometry + raster + shading + checks) and writing (`encode_image`) in ms per face,
images/s for render+write, and disk per 1,000 images for each storage option (face-centred crop or
full frame; JPEG quality 95 or PNG level 1, plus the old full-frame PNG level 6). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import FaceDetector, load_landmarks
from maskaudit.imageio import read_rgb
from maskaudit.masking import (
    DEFAULT_STORAGE,
    PALETTE,
    draw_point,
    encode_image,
    mask_image,
    resolve_variant,
)

VARIANTS = {
    "surgical-blue": {"kind": "surgical", "colour": "blue"},
    "n95-white": {"kind": "n95", "colour": "white"},
    "kn95-white": {"kind": "kn95", "colour": "white"},
    "cloth-red-check": {"kind": "cloth", "colour": "red", "texture": "check"},
    "gas-grey": {"kind": "gas", "colour": "grey"},
    "wide-black-low": {"kind": "wide", "colour": "black", "coverage": "low"},
    "round-blue-medium": {"kind": "round", "colour": "blue", "coverage": "medium"},
}
STORAGE = {
    "crop+jpeg95": {"frame": "crop", "format": "jpeg"},
    "crop+png1": {"frame": "crop", "format": "png"},
    "full+jpeg95": {"frame": "full", "format": "jpeg"},
    "full+png1": {"frame": "full", "format": "png"},
    "full+png6 (old default)": {"frame": "full", "format": "png", "png_level": 6},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default="results/datasets/demo/manifest.tsv")
    ap.add_argument("--landmarks", default="results/faces/demo/landmarks.npz")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the images per measurement")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    manifest = read_manifest(args.manifest)
    marks = load_landmarks(args.landmarks)
    faces = [
        (i, read_rgb(p), marks[i])
        for i, p in zip(manifest.image_id, manifest.path)
        if marks[i] is not None
    ]
    n = len(faces) * args.repeats

    detector = FaceDetector()
    start, cpu = time.perf_counter(), time.thread_time()
    for _ in range(args.repeats):
        for _, rgb, _ in faces:
            detector.detect(rgb)
    detect_ms, detect_cpu = (
        (time.perf_counter() - start) / n * 1000,
        (time.thread_time() - cpu) / n * 1000,
    )

    masks = {"colours": PALETTE, "variants": VARIANTS}
    rows, disk = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["none", *VARIANTS]:
            variant = resolve_variant(masks, name)
            for label, over in STORAGE.items():
                storage = {**DEFAULT_STORAGE, **over}
                render_s = write_s = render_cpu = write_cpu = 0.0
                sizes = []
                for r in range(args.repeats):
                    for image_id, rgb, lm in faces:
                        point = draw_point(variant, 1, "bench", image_id)
                        t0, c0 = time.perf_counter(), time.thread_time()
                        image, _ = mask_image(rgb, lm, point, np.random.default_rng(r), storage)
                        t1, c1 = time.perf_counter(), time.thread_time()
                        path = (
                            Path(tmp)
                            / f"{image_id}.{'jpg' if storage['format'] == 'jpeg' else 'png'}"
                        )
                        encode_image(path, image, storage)
                        t2, c2 = time.perf_counter(), time.thread_time()
                        render_s, write_s = render_s + t1 - t0, write_s + t2 - t1
                        render_cpu, write_cpu = render_cpu + c1 - c0, write_cpu + c2 - c1
                        sizes.append(path.stat().st_size)
                disk[(name, label)] = np.mean(sizes) * 1000 / 1e6
                if label in ("crop+jpeg95", "full+png6 (old default)"):
                    rows.append(
                        (
                            name,
                            label,
                            render_cpu / n * 1000,
                            write_cpu / n * 1000,
                            n / (render_cpu + write_cpu),
                            n / (render_s + write_s),
                        )
                    )

    print(
        f"maskaudit mask benchmark: {len(faces)} demo faces x {args.repeats} passes, {platform.machine()}, "
        f"{os.cpu_count()} cores, single thread (cv2.setNumThreads(1))\n"
    )
    print(
        f"detection (dlib HOG + 68 landmarks, max side 800, once per image): {detect_cpu:.1f} ms CPU/face "
        f"({detect_ms:.1f} ms wall)\n"
    )
    print(
        "CPU time of this thread (robust to other load on the machine); wall-clock img/s beside it\n"
    )
    print(
        "| variant | storage | render ms/face | write ms/face | render+write img/s (CPU) | img/s (wall) |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for name, label, r, w, ips, wall in rows:
        print(f"| {name} | {label} | {r:.1f} | {w:.1f} | {ips:.0f} | {wall:.0f} |")
    print("\ndisk per 1,000 images (MB)\n")
    print("| variant | " + " | ".join(STORAGE) + " |")
    print("|---|" + "---:|" * len(STORAGE))
    for name in ["none", *VARIANTS]:
        print(f"| {name} | " + " | ".join(f"{disk[(name, s)]:.1f}" for s in STORAGE) + " |")


if __name__ == "__main__":
    main()
