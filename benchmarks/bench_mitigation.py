"""Mask-robust heads on the stress study's real dlib embeddings: held-out distance change and speed.

    python benchmarks/bench_mitigation.py [--workdir DIR] [--size 3000] [--out benchmarks/results/mitigation.json]

1. Builds (or reuses) the dlib embedding caches of the stress dataset (config/stress.yaml, dlib only,
   ``--size`` images, its three mask variants) with Snakemake in ``--workdir``; existing caches are
   kept (``--rerun-triggers mtime``), so a second run only trains.
2. Splits identities as the workflow does (seeded, config/config.yaml's ``mitigation.split``) and
   trains one head per loss with config/config.yaml's ``mitigation`` settings, on one CPU thread.
3. Passes the caches through each head and runs the before/after view
   (:func:`maskaudit.mitigation.evaluate.before_after`) on the TEST identities only: masked-vs-own-
   unmasked cosine distance, that distance relative to the impostor distance, FNMR at fixed FMR.

Reports, per loss: training pairs processed per CPU second (one thread, including the per-epoch
validation pass; wall-clock speed is also recorded but depends on what else the machine runs), the
held-out distances before and after, and the projected CPU time to train on a 15,000-image study
with 16 variants (240,000 pairs) for the configured epochs. The stress images are augmentations of the 15
demo photos (11 people): the held-out identities are few, and its error rates are not a study's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build_caches(workdir: Path, size: int) -> dict:
    import yaml

    cfg = yaml.safe_load((REPO / "config/stress.yaml").read_text())
    cfg["datasets"]["stress"]["size"] = size
    cfg["datasets"]["demo"]["sources"] = str(REPO / "config/datasets/demo.yaml")
    cfg["models"] = ["dlib"]
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    variants = ["none", *cfg["masks"]["variants"]]
    targets = [f"results/embeddings/dlib/stress/{v}.npz" for v in variants]
    targets += [
        "results/protocol/stress/near_duplicates.tsv",
        "results/datasets/stress/manifest.tsv",
    ]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            *targets,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--configfile",
            str(workdir / "config.yaml"),
            "--cores",
            "2",
            "--rerun-triggers",
            "mtime",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return {"variants": variants, "seed": cfg["seed"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/maskaudit-bench-mitigation"))
    ap.add_argument(
        "--size", type=int, default=3000, help="stress images (config/stress.yaml has 3000)"
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/mitigation.json")
    args = ap.parse_args()

    import pandas as pd
    import yaml

    from maskaudit.config import load_schema, validate_config
    from maskaudit.datasets.manifest import read_manifest
    from maskaudit.embed import load_cache, save_cache
    from maskaudit.mitigation.data import load_pairs, split_identities, subset
    from maskaudit.mitigation.evaluate import before_after
    from maskaudit.mitigation.head import forward
    from maskaudit.mitigation.train import train_head
    from maskaudit.tsv import read_tsv

    info = build_caches(args.workdir, args.size)
    variants, masked = info["variants"], info["variants"][1:]
    res = args.workdir / "results"
    cfg = validate_config(
        yaml.safe_load((REPO / "config/config.yaml").read_text()),
        load_schema(REPO / "workflow/schemas/config.schema.yaml"),
    )
    mit = cfg["mitigation"]
    manifest = read_manifest(res / "datasets/stress/manifest.tsv")
    split = split_identities(manifest.identity, info["seed"], "stress", **mit["split"])
    emb = res / "embeddings/dlib/stress"
    pairs = load_pairs(
        emb / "none.npz",
        {v: emb / f"{v}.npz" for v in masked},
        dict(zip(manifest.image_id, manifest.identity)),
    )
    train, val = (subset(pairs, split.identity[split.split == s]) for s in ("train", "val"))
    test_ids = split.identity[split.split == "test"]
    systems = {"dlib": {v: emb / f"{v}.npz" for v in variants}}
    out = {
        "machine": f"{os.uname().machine}, {os.cpu_count()} cores",
        "images": int(len(manifest)),
        "identities": int(manifest.identity.nunique()),
        "variants": masked,
        "split": split.split.value_counts().to_dict(),
        "test_identities": sorted(test_ids),
        "train_pairs": int(len(train)),
        "val_pairs": int(len(val)),
        "losses": {},
    }
    general = ["hidden", "epochs", "batch_size", "learning_rate", "weight_decay"]
    for loss in mit["losses"]:
        settings = {**{k: mit[k] for k in general}, loss: mit[loss]}
        cpu0, t0 = time.process_time(), time.perf_counter()
        weights, curve, tinfo = train_head(train, val, loss, settings, seed=info["seed"], threads=1)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - t0
        head = f"dlib+{loss}"
        (res / "bench_heads" / head).mkdir(parents=True, exist_ok=True)
        for v in variants:
            ids, vec, status = load_cache(emb / f"{v}.npz")
            save_cache(
                res / "bench_heads" / head / f"{v}.npz", ids, forward(weights, vec), status, {}
            )
        systems[head] = {v: res / "bench_heads" / head / f"{v}.npz" for v in variants}
        epochs = settings[loss].get("epochs", settings["epochs"])
        per_cpu_s = tinfo["samples_seen"] / cpu
        out["losses"][loss] = {
            "samples_per_cpu_s": per_cpu_s,
            "samples_per_wall_s": tinfo["samples_per_s"],
            "train_cpu_s": cpu,
            "train_wall_s": wall,
            "epochs": epochs,
            "best_epoch": tinfo["best_epoch"],
            "val_loss_untrained": float(curve.val_loss.iloc[0]),
            "val_loss_best": tinfo["best_val_loss"],
            "projected_study_cpu_minutes": 240_000 * epochs / per_cpu_s / 60,
        }
        print(
            f"{loss}: {per_cpu_s:.0f} pairs per CPU second, best epoch {tinfo['best_epoch']}",
            flush=True,
        )
    table = before_after(
        manifest,
        systems,
        test_ids,
        read_tsv(res / "protocol/stress/near_duplicates.tsv"),
        fmr_targets=cfg["protocol"]["fmr_targets"],
        n_boot=cfg["stats"]["bootstrap"],
        level=cfg["stats"]["confidence"],
        seed=info["seed"],
        dataset="stress",
        eval_label="test identities",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out.with_suffix(".tsv"), sep="\t", index=False, float_format="%.6f")
    keep = table[
        (table.group == "all")
        & table.measure.isin(["reid_distance", "reid_distance_ratio", "fnmr"])
        & table.supported
    ]
    for row in keep.itertuples():
        loss = row.system.partition("+")[2] or "base"
        entry = out["losses"].setdefault(loss, {}) if loss != "base" else out.setdefault("base", {})
        entry.setdefault("held_out", {}).setdefault(row.variant, {})[
            f"{row.measure}@{row.threshold}"
        ] = {
            "value": row.value,
            "low": row.low,
            "high": row.high,
            "change": row.change,
            "change_low": row.change_low,
            "change_high": row.change_high,
        }
    args.out.write_text(json.dumps(out, indent=1, default=float) + "\n")
    pd.set_option("display.width", 200)
    print(
        keep[
            [
                "system",
                "variant",
                "measure",
                "threshold",
                "value",
                "low",
                "high",
                "change",
                "change_low",
                "change_high",
            ]
        ].to_string(index=False)
    )
    print(
        json.dumps(
            {
                k: {m: v[m] for m in ("samples_per_cpu_s", "projected_study_cpu_minutes")}
                for k, v in out["losses"].items()
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
