"""CPU time of one mask render (``render_mask``), per kind, on a package-shipped face.

The renderer computes in fixed point so renders are the same bytes on every x86-64 machine
(maskaudit/masks/render.py); this measures what that costs. One thread; CPU time of this process
(robust to other load); best of three passes of ten renders.

    python benchmarks/bench_render.py
"""

import time

import cv2
import matplotlib
import numpy as np
from PIL import Image

from maskaudit.masks import MaskSpec, render_mask
from maskaudit.masks.faces import FaceFinder

CASES = [
    ("surgical", "plain"),
    ("n95", "plain"),
    ("kn95", "plain"),
    ("cloth", "check"),
    ("gas", "plain"),
    ("round", "floral"),
]


def main() -> None:
    cv2.setNumThreads(1)
    rgb = np.asarray(
        Image.open(matplotlib.get_data_path() + "/sample_data/grace_hopper.jpg").convert("RGB")
    )
    lm = FaceFinder().find(rgb)[0].landmarks
    print(
        f"render_mask, Grace Hopper {rgb.shape[1]}x{rgb.shape[0]}, one thread, best of 3 x 10 renders"
    )
    print("| variant | ms CPU/render |\n|---|---:|")
    for kind, texture in CASES:
        spec = MaskSpec(kind, (0x7F, 0xB2, 0xE0), texture=texture)
        best = []
        for _ in range(3):
            t = time.process_time()
            for _ in range(10):
                render_mask(rgb, lm, spec, np.random.default_rng(3))
            best.append((time.process_time() - t) / 10 * 1000)
        print(f"| {kind}-{texture} | {min(best):.1f} |")


if __name__ == "__main__":
    main()
