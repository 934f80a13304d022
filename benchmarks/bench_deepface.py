"""1:1 comparison end to end: naive DeepFace.verify per pair vs maskaudit's cached path, same pairs.

Run from a folder where the demo manifest and one mask variant exist, e.g.

    snakemake --cores all results/masked/demo/surgical-blue/manifest.tsv

The pairs are the study's seeded 1:1 set (maskaudit.vendors.pairs): each probe against its own
original, against the other photos of its identity, and against 5 seeded impostors (110 per variant
on the demo).
    python benchmarks/bench_deepface.py [--variants none surgical-blue] [--model dlib]

Both sides do everything, nothing is derived: the naive side calls
``DeepFace.verify(probe_path, reference_path, model_name="Dlib")`` for every pair (deepface's defaults:
opencv detector, align, cosine, its threshold), which detects and embeds both images each time. The
maskaudit side does what the workflow does: it reads and decodes each image once, runs the same
detector and network (end_to_end alignment), batches the embeddings into one cache per variant (the
unmasked cache, built in the ``none`` row, is reused as the references of every masked variant) and
scores every pair with one vectorised distance. Both load the model before the clock starts. The
decisions of the two sides are compared pair by pair.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from maskaudit.datasets.manifest import read_manifest
from maskaudit.embed import embed_images
from maskaudit.masking import read_variant_manifest
from maskaudit.models import load_model
from maskaudit.protocol.reference import pair_distances
from maskaudit.vendors.pairs import vendor_pairs

SEED = 20240221  # config/config.yaml's master seed


def pair_paths(variant: str, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    manifest = (
        read_manifest(f"results/datasets/{dataset}/manifest.tsv")
        .set_index("image_id")
        .assign(status="ok")
    )
    probes = (
        manifest
        if variant == "none"
        else read_variant_manifest(f"results/masked/{dataset}/{variant}/manifest.tsv").set_index(
            "image_id"
        )
    )
    pairs = vendor_pairs(
        manifest.index,
        manifest.identity,
        seed=SEED,
        dataset=dataset,
        impostors_per_probe=5,
        baseline=False,
    )
    return pairs, probes, manifest


def naive(pairs, probes, refs, model_name):
    from deepface import DeepFace

    out = []
    for row in pairs.itertuples():
        # no masked image was rendered: nothing to compare
        if probes.loc[row.probe_id, "status"] != "ok":
            out.append("fta")
            continue
        try:
            res = DeepFace.verify(
                probes.loc[row.probe_id, "path"],
                refs.loc[row.ref_id, "path"],
                model_name=model_name,
            )
            out.append("match" if res["verified"] else "non_match")
        except ValueError:  # no face on a side: deepface raises
            out.append("fta")
    return out


def cache(model, table, batch_size):
    """One variant's embedding cache: ``(index of image ids, vectors)``, as ``embed_images`` writes it."""
    vectors, _, _ = embed_images(model, table.reset_index(), {}, batch_size)
    return pd.Index(table.index), vectors


def ours(model, pairs, probes, references, batch_size):
    """Decisions for ``pairs``; ``references`` is the unmasked cache, or None to build it (variant none)."""
    if references is None:
        references = probes = cache(model, probes, batch_size)
    else:
        probes = cache(model, probes, batch_size)
    dist = pair_distances(
        probes[1][probes[0].get_indexer(pairs.probe_id)],
        references[1][references[0].get_indexer(pairs.ref_id)],
        model.card.metric,
    )
    decisions = np.where(
        np.isnan(dist), "fta", np.where(dist <= model.card.threshold, "match", "non_match")
    )
    return decisions.tolist(), references


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="demo")
    ap.add_argument("--variants", nargs="+", default=["none", "surgical-blue"])
    ap.add_argument("--model", default="dlib")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    # stages DEEPFACE_HOME for deepface too: same files
    model = load_model(args.model, "end_to_end")
    from deepface import DeepFace

    DeepFace.build_model(model.card.deepface_name)  # warm both sides' networks and detector
    model.embed([np.zeros((64, 64, 3), np.uint8)], [None])
    print(
        f"maskaudit vs DeepFace.verify, model {model.card.deepface_name}, {platform.machine()}, "
        f"{os.cpu_count()} cores, single process\n"
    )
    print(
        "| variant | pairs | DeepFace.verify per pair (s) | maskaudit end to end (s) | speed-up | decisions equal |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    totals, references = [0, 0.0, 0.0], None
    for variant in ["none"] + [v for v in args.variants if v != "none"]:  # the unmasked cache first
        pairs, probes, refs = pair_paths(variant, args.dataset)
        t0 = time.perf_counter()
        theirs = naive(pairs, probes, refs, model.card.deepface_name)
        t1 = time.perf_counter()
        mine, references = ours(model, pairs, probes, references, args.batch_size)
        t2 = time.perf_counter()
        same = sum(a == b for a, b in zip(theirs, mine))
        totals = [totals[0] + len(pairs), totals[1] + t1 - t0, totals[2] + t2 - t1]
        print(
            f"| {variant} | {len(pairs)} | {t1 - t0:.1f} | {t2 - t1:.1f} | x{(t1 - t0) / (t2 - t1):.1f} | "
            f"{same}/{len(pairs)} |"
        )
    print(
        f"\nall {totals[0]} pairs: {totals[0] / totals[1]:.2f} pairs/s naive, {totals[0] / totals[2]:.2f} pairs/s "
        f"maskaudit, ratio x{totals[1] / totals[2]:.1f}"
    )


if __name__ == "__main__":
    main()
