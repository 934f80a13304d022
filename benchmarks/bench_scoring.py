"""Scoring a large probe x gallery matrix in float32 chunks: time and peak memory.

    PYTHONPATH=. python benchmarks/bench_scoring.py [--images 15000] [--per-identity 3] [--chunk 1024]

Synthetic 128-d embeddings (identities with ``--per-identity`` photos, four demographic groups) go
through exactly the workflow's code path (maskaudit.protocol): the baseline pass that fixes the global
thresholds (top impostor tail for FMR 1e-2, 1e-3, 1e-4; open-set non-mated searches), then one
masked-variant pass that scores the full probe x gallery matrix: re-identification, mated pairs,
identity-level closed- and open-set search with a partial sort for the top k, and the identity-pair
impostor counts at every global threshold plus the impostor sample. Nothing is asserted; the script
prints wall time per pass and the process's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np
import pandas as pd

from maskaudit.models import ModelCard
from maskaudit.protocol.layout import build_layout
from maskaudit.protocol.pairs import mated_pairs
from maskaudit.protocol.score import ScoreOptions, score_variant
from maskaudit.protocol.sources import from_embeddings
from maskaudit.protocol.thresholds import baseline_thresholds, tail_size, threshold_map


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=15000)
    ap.add_argument("--per-identity", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--dim", type=int, default=128)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.images
    ident = np.arange(n) // args.per_identity
    n_id = int(ident.max()) + 1
    centres = rng.normal(size=(n_id, args.dim)).astype(np.float32)
    gallery = centres[ident] + 0.6 * rng.normal(size=(n, args.dim)).astype(np.float32)
    masked = gallery + 0.8 * rng.normal(size=(n, args.dim)).astype(np.float32)
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    masked /= np.linalg.norm(masked, axis=1, keepdims=True)
    ids = [f"img{k:06d}" for k in range(n)]
    manifest = pd.DataFrame(
        {
            "image_id": ids,
            "identity": [f"id{x:06d}" for x in ident],
            "gender": np.where(ident % 2, "male", "female"),
            "race": np.where(ident % 4 < 2, "Black", "White"),
            "age": "",
        }
    )
    card = ModelCard(
        id="synthetic",
        name="synthetic",
        dim=args.dim,
        metric="euclidean",
        threshold=1.0,
        threshold_source="synthetic",
        factory="x:y",
    )
    status = ["ok"] * n
    held = frozenset(f"id{x:06d}" for x in rng.choice(n_id, n_id // 5, replace=False))
    print(
        f"maskaudit scoring benchmark: {n:,} probes x {n:,} gallery ({n_id:,} identities), "
        f"{args.dim}-d float32, chunk {args.chunk}; {platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores; peak RSS after setup {peak_mib():.0f} MiB"
    )

    start = time.perf_counter()
    src = from_embeddings((ids, gallery, status), (ids, gallery, status), card)
    layout = build_layout(
        src.probe_ids, src.probe_status, src.gallery_ids, src.gallery_status, manifest, True
    )
    p, g = mated_pairs(layout)
    t_layout = time.perf_counter() - start
    targets = [1e-2, 1e-3, 1e-4]
    start = time.perf_counter()
    base = score_variant(
        src,
        layout,
        {},
        ScoreOptions(chunk=args.chunk, held_out=held, tail_k=tail_size(targets, n * n)),
    )
    thresholds = baseline_thresholds(base, src, targets, [1e-1, 1e-2], layout.probe_ok)
    t_base = time.perf_counter() - start
    del base
    start = time.perf_counter()
    src = from_embeddings((ids, masked, status), (ids, gallery, status), card)
    layout = build_layout(
        src.probe_ids, src.probe_status, src.gallery_ids, src.gallery_status, manifest, False
    )
    res = score_variant(
        src,
        layout,
        {},
        ScoreOptions(
            chunk=args.chunk, held_out=held, rank_k=5, thresholds=threshold_map(thresholds)
        ),
    )
    t_var = time.perf_counter() - start
    n_imp = int(res.impostors["trials"].sum())
    print()
    print("| step | wall s | scores |")
    print("|---|---:|---:|")
    print(f"| layout + vectorised mated pairs ({p.size:,} baseline pairs) | {t_layout:.2f} | |")
    print(f"| baseline pass: thresholds at FMR 1e-2/1e-3/1e-4 + FPIR | {t_base:.1f} | {n * n:,} |")
    print(
        f"| masked-variant pass: reid, mated, 1:N by identity, impostor counts at 4 thresholds | {t_var:.1f} | "
        f"{n * n:,} |"
    )
    print()
    print(
        "thresholds (similarity): "
        + ", ".join(f"{r['name']}={r['similarity']:.4f}" for r in thresholds["verification"])
    )
    print(
        f"impostor comparisons counted: {n_imp:,}; sample kept: {res['impostors']['sample_score'].size:,}"
    )
    print(f"throughput (variant pass): {n * n / t_var / 1e6:.1f} M scores/s")
    print(f"peak RSS: {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
