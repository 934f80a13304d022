"""Throughput and peak memory of the near-duplicate screen across identities (issue 15).

    PYTHONPATH=. python benchmarks/bench_duplicates.py [--images 2000 5000]

Every pair of N face signatures (32 x 32 grey + valid mask; here random, one identity per image as
in FairFace/UTKFace) is compared by :func:`maskaudit.protocol.near_duplicates.duplicate_pairs_across`
(six blocked float64 matrix products). Reports seconds, pairs per second and the peak RSS increase,
and the projection to larger N (cost grows as N^2). Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from maskaudit.protocol.near_duplicates import duplicate_pairs_across


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, nargs="+", default=[2000, 5000])
    ap.add_argument("--block", type=int, default=512)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    for n in args.images:
        ids = [f"i{k:06d}" for k in range(n)]
        valid = np.ones((32, 32), bool)
        sigs = {i: (rng.normal(120, 40, size=(32, 32)), valid) for i in ids}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        pairs = duplicate_pairs_across(
            ids, ids, sigs, min_correlation=0.8, min_overlap=0.4, block=args.block
        )
        dt = time.perf_counter() - t0
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        n_pairs = n * (n - 1) / 2
        print(
            f"N={n}: {dt:.1f} s, {n_pairs / dt:,.0f} pairs/s, peak RSS +{peak:.0f} MB, {len(pairs)} flagged; "
            f"projected 10,000 images: {dt * (10000 / n) ** 2:.0f} s"
        )


if __name__ == "__main__":
    main()
