"""Cost of the statistics stage (compute_metrics) at study scale: bootstrap and permutation counts.

    PYTHONPATH=. python benchmarks/bench_metrics.py [--images 3000] [--per-identity 3] [--variants 2]
        [--bootstrap 1000] [--permutations 1000]

Synthetic embeddings with four demographic groups go through the real scoring pass (so the score
files are what the workflow writes) and then maskaudit.tables.audit_tables, which computes every rate
with Clopper-Pearson and identity-bootstrap intervals, the differentials with permutation tests, the
fairness summaries, mask effects and the clustering index. Prints wall time per step; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from maskaudit.models import ModelCard
from maskaudit.protocol import files
from maskaudit.protocol.layout import build_layout
from maskaudit.protocol.score import ScoreOptions, score_variant
from maskaudit.protocol.sources import from_embeddings
from maskaudit.protocol.thresholds import baseline_thresholds, tail_size, threshold_map
from maskaudit.tables import MetricsSettings, audit_tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=3000)
    ap.add_argument("--per-identity", type=int, default=3)
    ap.add_argument("--variants", type=int, default=2, help="masked variants besides the baseline")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--permutations", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, dim = args.images, 64
    ident = np.arange(n) // args.per_identity
    n_id = int(ident.max()) + 1
    centres = rng.normal(size=(n_id, dim))
    gallery = centres[ident] + 0.6 * rng.normal(size=(n, dim))
    ids = [f"img{k:06d}" for k in range(n)]
    manifest = pd.DataFrame(
        {
            "image_id": ids,
            "path": "",
            "identity": [f"id{x:06d}" for x in ident],
            "gender": np.where(ident % 2, "male", "female"),
            "race": np.where(ident % 4 < 2, "Black", "White"),
            "age": "",
            "source": "",
            "licence": "",
        }
    )
    card = ModelCard(
        id="synthetic",
        name="synthetic",
        dim=dim,
        metric="euclidean",
        threshold=9.0,
        threshold_source="synthetic",
        factory="x:y",
    )
    ok = ["ok"] * n
    held = frozenset(f"id{x:06d}" for x in rng.choice(n_id, n_id // 5, replace=False))
    targets = [1e-2, 1e-3, 1e-4]
    start = time.perf_counter()
    src = from_embeddings((ids, gallery, ok), (ids, gallery, ok), card)
    layout = build_layout(
        src.probe_ids, src.probe_status, src.gallery_ids, src.gallery_status, manifest, True
    )
    base = score_variant(
        src, layout, {}, ScoreOptions(held_out=held, tail_k=tail_size(targets, n * n))
    )
    thresholds = baseline_thresholds(base, src, targets, [0.1], layout.probe_ok)
    thresholds.update(model="synthetic", dataset="bench")
    scores, variants = {}, []
    for k in range(args.variants + 1):
        vid = "none" if k == 0 else f"surgical-c{k}"
        probes = gallery if k == 0 else gallery + (0.5 + 0.2 * k) * rng.normal(size=(n, dim))
        src = from_embeddings((ids, probes, ok), (ids, gallery, ok), card)
        layout = build_layout(
            src.probe_ids, src.probe_status, src.gallery_ids, src.gallery_status, manifest, k == 0
        )
        r = score_variant(
            src, layout, {}, ScoreOptions(held_out=held, thresholds=threshold_map(thresholds))
        )
        variant = {
            "id": vid,
            "kind": "none" if k == 0 else "surgical",
            "colour": "none" if k == 0 else f"c{k}",
        }
        variants.append(variant)
        scores[vid] = {
            "reid": files.reidentification_frame(r, layout, src, manifest, variant),
            "verification": files.verification_frame(r, layout, src, manifest, variant),
            "identification": files.identification_frame(r, layout, src, manifest, variant),
            "impostors": r.impostors,
        }
    t_score = time.perf_counter() - start
    start = time.perf_counter()
    tables = audit_tables(
        variants,
        scores,
        manifest,
        thresholds,
        labels={},
        dataset="bench",
        settings=MetricsSettings(seed=1, n_boot=args.bootstrap, n_perm=args.permutations, rank_k=5),
    )
    t_stats = time.perf_counter() - start
    print(
        f"maskaudit metrics benchmark: {n:,} images, {n_id:,} identities, {len(variants)} variants, "
        f"{args.bootstrap} bootstrap resamples, {args.permutations} permutations"
    )
    print(
        f"scoring (baseline thresholds + {len(variants)} variant passes + score frames): {t_score:.1f} s"
    )
    print(
        f"statistics (audit_tables): {t_stats:.1f} s for {sum(len(t) for t in tables.values()):,} table rows"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
