"""The whole workflow at scale against its limit, measured in one run: where every CPU second goes.

    python benchmarks/bench_workflow.py [--config config/stress.yaml] [--workdir /tmp/maskaudit-stress]
                                        [--cores 2] [--out benchmarks/results/workflow.json]

1. Runs Snakemake on the config (by default the 3,000-image synthetic stress study, 4 variants,
   dlib + FaceNet) in a fresh working directory, and takes the CPU time of the whole process tree
   (Snakemake and every job it ran) from ``getrusage``.
2. Reads each job's ``USAGE`` record (maskaudit/usage.py) from its log: CPU per stage (decode, detect,
   mask, align, embed, write), start-up before the job's code, exact peak memory against the rule's
   declared ``mem_mb``. Snakemake's own share is the tree's CPU minus the jobs'.
3. Measures the limit on the same images in this process: the bare detector (dlib HOG + 68
   landmarks) once per original image, and each model's bare forward pass (with the threads its
   jobs use) on every variant's aligned faces, both on images decoded and aligned beforehand (that
   work is not timed).

The ratio is the workflow's CPU from the manifests on (building the synthetic dataset stands in for
downloading one and is reported apart) over the limit's CPU. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from maskaudit.usage import read_usage  # noqa: E402

DATA_RULES = {
    "download_sources",
    "build_demo_dataset",
    "build_stress_dataset",
    "download_archive",
    "extract_archives",
    "build_dataset_manifest",
    "sample_dataset",
}
LIMIT_STAGES = ("detect", "embed")
CATEGORIES = {  # how the rest of the workflow's CPU is reported
    "build_protocol": "scoring",
    "fix_thresholds": "scoring",
    "score_comparisons": "scoring",
    "compute_metrics": "metrics",
    "collect_table": "metrics",
}


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_workflow(config: Path, workdir: Path, cores: int) -> dict:
    cfg = yaml.safe_load(config.read_text())
    for spec in cfg["datasets"].values():  # sources are relative to the repository
        if "sources" in spec:
            spec["sources"] = str(REPO / spec["sources"])
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--cores",
        str(cores),
    ]
    cpu0, t0 = children_cpu(), time.perf_counter()
    with open(workdir / "snakemake.log", "w") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": children_cpu() - cpu0, "config": cfg}


def job_records(workdir: Path, datasets: list[str]) -> list[dict]:
    """Every job's USAGE record, with its rule (the first folder under logs/), dataset and log path."""
    out = []
    for log in sorted((workdir / "logs").rglob("*.log")):
        record = read_usage(log)
        if record is None:
            raise SystemExit(f"{log} has no USAGE record: did the job finish?")
        rel = log.relative_to(workdir / "logs")
        tokens = {t for part in rel.with_suffix("").parts for t in part.split(".")}
        dataset = next((d for d in datasets if d in tokens), "")
        out.append({**record, "rule": rel.parts[0], "dataset": dataset, "log": rel.as_posix()})
    return out


def measure_limit(workdir: Path, cfg: dict) -> dict:
    """Bare detection per original image and bare forward passes per (model, variant), CPU seconds."""
    from maskaudit.datasets.manifest import read_manifest
    from maskaudit.detect import FaceDetector, load_landmarks
    from maskaudit.imageio import ImageReadError, read_rgb
    from maskaudit.masking import read_variant_manifest, stored_landmarks
    from maskaudit.models import load_model
    from maskaudit.models.base import limit_threads

    chunk = 128  # images decoded (and aligned) ahead of each timed block; bounds memory
    det_cfg = {k: v for k, v in cfg["detection"].items() if k != "shards"}
    detector = FaceDetector(**det_cfg)
    limit = {
        "detect": 0.0,
        "embed": defaultdict(float),
        "images": 0,
        "faces": defaultdict(int),
        "images_by_dataset": {},
        "faces_by_dataset": defaultdict(int),
    }
    datasets = sorted(cfg["datasets"])
    for ds in datasets:
        paths = list(read_manifest(workdir / f"results/datasets/{ds}/manifest.tsv").path)
        for k in range(0, len(paths), chunk):
            images = []
            for p in paths[k : k + chunk]:
                try:
                    images.append(read_rgb(p))
                except ImageReadError:
                    pass
            start = time.process_time()
            for rgb in images:
                detector.detect(rgb)
            limit["detect"] += time.process_time() - start
            limit["images"] += len(images)
        limit["images_by_dataset"][ds] = len(paths)
        print(f"  bare detection {ds}: {len(paths)} images", flush=True)
    batch = cfg["embedding"]["batch_size"]
    for model_id in cfg["models"]:
        model = load_model(
            model_id, cfg["embedding"]["alignment"], fetch_dir=str(workdir / "resources/weights")
        )
        limit_threads(model.card.threads)  # the threads its embedding jobs use
        for ds in datasets:
            landmarks = load_landmarks(workdir / f"results/faces/{ds}/landmarks.npz")
            for variant_dir in sorted((workdir / f"results/masked/{ds}").iterdir()):
                table = read_variant_manifest(variant_dir / "manifest.tsv")
                table = table[table.status == "ok"]
                lms = stored_landmarks(table, landmarks)
                for k in range(0, len(table), chunk):
                    crops = []
                    for row in table.iloc[k : k + chunk].itertuples():
                        face = model.acquire(read_rgb(row.path), lms.get(row.image_id))
                        if face.status == "ok":
                            crops.append(face.crop)
                    start = time.process_time()
                    for b in range(0, len(crops), batch):
                        model.represent(crops[b : b + batch])
                    limit["embed"][model_id] += time.process_time() - start
                    limit["faces"][model_id] += len(crops)
                    limit["faces_by_dataset"][ds] += len(crops)
        print(f"  bare forward {model_id}: {limit['faces'][model_id]} faces", flush=True)
    return limit


def summarise(run: dict, jobs: list[dict], limit: dict) -> dict:
    audit = [j for j in jobs if j["rule"] not in DATA_RULES]
    data = [j for j in jobs if j["rule"] in DATA_RULES]
    shares: dict[str, float] = defaultdict(float)
    for j in audit:
        shares["job start-up"] += j["startup_cpu_s"]
        staged = 0.0
        for name, cpu in j["stages"].items():
            shares[name] += cpu
            staged += cpu
        rest = j["cpu_s"] - j["startup_cpu_s"] - staged
        category = CATEGORIES.get(
            j["rule"], "figures" if j["rule"].startswith("plot_") else "read/other"
        )
        shares[category] += rest
    job_cpu = sum(j["cpu_s"] for j in jobs)
    shares["snakemake (scheduler process)"] = run["cpu_s"] - job_cpu
    workflow_cpu = run["cpu_s"] - sum(j["cpu_s"] for j in data)
    limit_cpu = limit["detect"] + sum(limit["embed"].values())
    by_rule: dict[str, dict] = {}
    for j in jobs:
        r = by_rule.setdefault(
            j["rule"],
            {
                "jobs": 0,
                "cpu_s": 0.0,
                "startup_cpu_s": 0.0,
                "peak_rss_mb": 0.0,
                "peak_over_declared": 0.0,
                "over": 0,
            },
        )
        r["jobs"] += 1
        r["cpu_s"] += j["cpu_s"]
        r["startup_cpu_s"] += j["startup_cpu_s"]
        r["peak_rss_mb"] = max(r["peak_rss_mb"], j["peak_rss_mb"])
        ratio = j["peak_rss_mb"] / j["mem_mb"] if j["mem_mb"] else float("inf")
        r["peak_over_declared"] = max(r["peak_over_declared"], ratio)
        r["over"] += ratio > 1
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "wall_s": run["wall_s"],
        "tree_cpu_s": run["cpu_s"],
        "data_build_cpu_s": sum(j["cpu_s"] for j in data),
        "workflow_cpu_s": workflow_cpu,
        "limit_cpu_s": limit_cpu,
        "ratio": workflow_cpu / limit_cpu,
        "limit": {
            "detect_cpu_s": limit["detect"],
            "images": limit["images"],
            "embed_cpu_s": dict(limit["embed"]),
            "faces": dict(limit["faces"]),
            "images_by_dataset": limit["images_by_dataset"],
            "faces_by_dataset": dict(limit["faces_by_dataset"]),
        },
        "shares_cpu_s": dict(sorted(shares.items(), key=lambda kv: -kv[1])),
        "by_rule": by_rule,
        "jobs": len(jobs),
        "jobs_over_declared_memory": sum(r["over"] for r in by_rule.values()),
        "job_records": jobs,
    }


def report(s: dict) -> str:
    lines = [
        f"maskaudit workflow benchmark: {s['machine']}; {s['jobs']} jobs, wall {s['wall_s']:.0f} s",
        "",
        "| share of the workflow's CPU | CPU s | x limit |",
        "|---|---:|---:|",
    ]
    for name, cpu in s["shares_cpu_s"].items():
        lines.append(f"| {name} | {cpu:,.1f} | {cpu / s['limit_cpu_s']:.3f} |")
    lines += [
        f"| **workflow, from the manifests on** | **{s['workflow_cpu_s']:,.1f}** | **{s['ratio']:.3f}** |",
        f"| limit: bare detection ({s['limit']['images']:,} images) | {s['limit']['detect_cpu_s']:,.1f} | |",
    ]
    for m, cpu in s["limit"]["embed_cpu_s"].items():
        lines.append(
            f"| limit: bare forward {m} ({s['limit']['faces'][m]:,} faces) | {cpu:,.1f} | |"
        )
    lines += [
        f"| (building the synthetic dataset, not in the ratio) | {s['data_build_cpu_s']:,.1f} | |",
        "",
        "| rule | jobs | CPU s | start-up s | largest peak RSS MB | peak / declared mem_mb |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rule, r in sorted(s["by_rule"].items(), key=lambda kv: -kv[1]["cpu_s"]):
        lines.append(
            f"| {rule} | {r['jobs']} | {r['cpu_s']:,.1f} | {r['startup_cpu_s']:,.1f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['peak_over_declared']:.2f} |"
        )
    lines.append(
        f"\njobs whose peak memory exceeded their declared mem_mb: {s['jobs_over_declared_memory']}"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", type=Path, default=REPO / "config/stress.yaml")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/maskaudit-stress"))
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/workflow.json")
    ap.add_argument(
        "--reuse", action="store_true", help="keep an existing workdir's results (no timed run)"
    )
    args = ap.parse_args()
    if args.reuse:
        run = json.loads((args.workdir / "run.json").read_text())
    else:
        shutil.rmtree(args.workdir, ignore_errors=True)
        run = run_workflow(args.config, args.workdir, args.cores)
        (args.workdir / "run.json").write_text(json.dumps(run))
    print(
        f"workflow: {run['wall_s']:.0f} s wall, {run['cpu_s']:.0f} s CPU; measuring the limit",
        flush=True,
    )
    jobs = job_records(args.workdir, sorted(run["config"]["datasets"]))
    summary = summarise(run, jobs, measure_limit(args.workdir, run["config"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(report(summary))


if __name__ == "__main__":
    main()
