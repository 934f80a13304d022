"""Size and build time of the findings page (results/audit.html) as systems are added.

    PYTHONPATH=. python benchmarks/bench_report.py WORKDIR [--systems 1 2 4 8 16]

WORKDIR is a finished audit (e.g. a `make demo` checkout, or any --directory a run wrote). Its first
system's per-system files (metrics, thresholds, sidecars) are cloned under new model names, the
collected tables are rebuilt from the clones exactly as collect_table concatenates them, and the
report package builds every card and the page. Prints, per number of systems, the page's bytes, bytes
per system x variant, and the wall time and peak memory of building cards and page. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from maskaudit.report.card import build_card
from maskaudit.report.page import build_page
from maskaudit.tables import collect
from maskaudit.tsv import read_tsv, write_tsv

RATE_TABLE = "overall"


def clone(src: Path, dst: Path, n: int) -> tuple[list[str], str, int]:
    """``n`` systems in ``dst``/results cloned from the first system of ``src``; returns models, dataset, variants."""
    metrics = sorted((src / "results/metrics").glob("*/*/rates.tsv"))[0].parent
    model, dataset = metrics.parent.name, metrics.name
    res = dst / "results"
    models = [f"{model}_{i}" if i else model for i in range(n)]
    frames = {"rates": [], "mask_effects": [], "differentials": [], "thresholds": []}
    for m in models:
        out = res / f"metrics/{m}/{dataset}"
        out.mkdir(parents=True)
        for table in ("rates", "mask_effects", "differentials"):
            t = read_tsv(metrics / f"{table}.tsv").assign(model=m)
            write_tsv(t, out / f"{table}.tsv")
            frames[table].append(t)
        th = json.loads((src / f"results/thresholds/{model}/{dataset}.json").read_text())
        (res / f"thresholds/{m}").mkdir(parents=True)
        (res / f"thresholds/{m}/{dataset}.json").write_text(json.dumps(dict(th, model=m, system=m)))
        side = res / f"embeddings/{m}/{dataset}"
        side.mkdir(parents=True)
        for p in (src / f"results/embeddings/{model}/{dataset}").glob("*.json"):
            shutil.copy(p, side / p.name)
        frames["thresholds"].append(read_tsv(src / "results/tables/thresholds.tsv").assign(model=m))
    (res / "tables").mkdir()
    write_tsv(collect(frames["rates"], "overall"), res / "tables/overall.tsv")
    write_tsv(collect(frames["mask_effects"]), res / "tables/mask_effects.tsv")
    # Holm families are fixed per (system, dataset) in compute_metrics: collecting recomputes nothing
    write_tsv(collect(frames["differentials"]), res / "tables/differentials.tsv")
    write_tsv(pd.concat(frames["thresholds"], ignore_index=True), res / "tables/thresholds.tsv")
    (res / f"datasets/{dataset}").mkdir(parents=True)
    shutil.copy(
        src / f"results/datasets/{dataset}/manifest.tsv", res / f"datasets/{dataset}/manifest.tsv"
    )
    variants = read_tsv(res / "tables/overall.tsv").variant.nunique()
    return models, dataset, variants


def build(root: Path, models: list[str], dataset: str) -> int:
    cards = []
    (root / "results/report/cards").mkdir(parents=True)
    for m in models:
        sidecars = sorted(
            str(p.relative_to(root))
            for p in (root / f"results/embeddings/{m}/{dataset}").glob("*.json")
        )
        html, rec = build_card(
            m,
            dataset,
            rates=f"results/metrics/{m}/{dataset}/rates.tsv",
            mask_effects=f"results/metrics/{m}/{dataset}/mask_effects.tsv",
            thresholds=f"results/thresholds/{m}/{dataset}.json",
            sidecars=sidecars,
            fmr=None,
            measure="reid_fnmr",
            min_identities=10,
        )
        h, j = (
            f"results/report/cards/{m}.{dataset}.html",
            f"results/report/cards/{m}.{dataset}.json",
        )
        (root / h).write_text(html)
        (root / j).write_text(json.dumps(rec))
        cards.append((h, j))
    page = build_page(
        cards=cards,
        overall="results/tables/overall.tsv",
        differentials="results/tables/differentials.tsv",
        mask_effects="results/tables/mask_effects.tsv",
        thresholds="results/tables/thresholds.tsv",
        tests=None,
        manifests={dataset: f"results/datasets/{dataset}/manifest.tsv"},
        provenance={"config_hash": "-", "code_hash": "-", "versions": {}, "config_text": ""},
        fmr=None,
        measure="reid_fnmr",
        min_identities=10,
        top=5,
        alpha=0.05,
    )
    (root / "results/audit.html").write_text(page)
    return len(page.encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("--systems", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    args = ap.parse_args()
    import os

    print("systems\tvariants\tbytes\tbytes_per_system_variant\tseconds\tpeak_rss_mb")
    for n in args.systems:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            models, dataset, variants = clone(args.workdir.resolve(), root, n)
            cwd = os.getcwd()
            os.chdir(root)
            try:
                t0 = time.perf_counter()
                size = build(root, models, dataset)
                dt = time.perf_counter() - t0
            finally:
                os.chdir(cwd)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{n}\t{variants}\t{size}\t{size / (n * variants):.0f}\t{dt:.2f}\t{rss:.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
