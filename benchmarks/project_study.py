"""Project the wall time of the full study from measured per-item costs.

    python benchmarks/project_study.py [--workflow benchmarks/results/workflow.json]
                                       [--models benchmarks/results/models.json]
                                       [--gpu benchmarks/results/gpu_h200_{alignment}.json]

Inputs are two measurements on this machine: the stress benchmark (bench_workflow.py: CPU per image of
detection and masking, per face of decoding + alignment + writing in embedding jobs, per job of
scoring, metrics and figures) and the model benchmark (bench_models.py: each model's forward pass per
face, and deepface's detector per image for end_to_end). The study: 14,722 images in 5 datasets, the
unmasked baseline + 15 mask variants (16), the 9 open-source models. Every figure is CPU seconds per
item times the item count; wall time divides each stage's CPU by the cores it can use, stage after
stage (stages overlap in a real run, so this errs long). Assumptions are printed with the table.

Decoding, alignment and deepface's resize run once per stored image and input geometry in the shared
``prepare_faces`` stage (7 geometries for the 9 models: Facenet/Facenet512 and ArcFace/SFace share
theirs), costed per face as the stress run's decoding + alignment + writing per face; an embedding job
costs its network's forward pass times the CPU ratio job / forward that bench_gpu.py measured here
(``--cpu-bench``; the streaming of the prepared faces). Where that file exists, the preparation's CPU per
face is its measured ``prepare`` cost (mean over the geometries it measured) instead of the stress run's.

The GPU node's column uses a third measurement where it has one (bench_gpu.py on that node): the seven
PyTorch models' embedding jobs at their forward-pass rate there, at the study's batch size, times the
job / forward ratio measured there when the file has it (``job_ratio``, else 1: a lower bound, said so);
every other stage, the shared preparation included, is this machine's CPU time divided by the node's cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES, DATASETS, VARIANTS = 14_722, 5, 16
MODELS = [
    "vgg_face",
    "facenet",
    "facenet512",
    "openface",
    "deepface",
    "deepid",
    "arcface",
    "dlib",
    "sface",
]
CPU_ONLY = {"dlib", "sface"}  # their cards ask for no GPU
SFACE_AS = (
    "arcface"  # SFace's real graph is not available offline: costed as ArcFace (same input size)
)
GEOMETRIES = 7  # distinct (input size) preparations for the 9 models (maskaudit.prepare.prep_id)


def unit_costs(w: dict, dataset: str = "stress") -> dict:
    """CPU seconds per item, from the stress run's jobs on ``dataset``."""
    jobs = [j for j in w["job_records"] if j["dataset"] == dataset]

    def cpu(rule, minus=()):
        return sum(
            j["cpu_s"] - sum(j["stages"].get(s, 0.0) for s in minus)
            for j in jobs
            if j["rule"] == rule
        )

    def count(rule):
        return sum(j["rule"] == rule for j in jobs)

    images, faces = (
        w["limit"]["images_by_dataset"][dataset],
        w["limit"]["faces_by_dataset"][dataset],
    )
    return {
        "images": images,
        "detect_per_image": (cpu("detect_faces") + cpu("merge_faces")) / images,
        "mask_per_image": cpu("mask_images") / (images * count("mask_images")),
        "embed_rest_per_face": cpu("embed_images", minus=("embed",)) / faces,
        "score_per_job": cpu("score_comparisons") / count("score_comparisons"),
        "thresholds_per_job": cpu("fix_thresholds") / count("fix_thresholds"),
        "metrics_per_job": cpu("compute_metrics") / count("compute_metrics"),
        "protocol_per_dataset": cpu("build_protocol"),
        "figures_per_model_dataset": sum(
            cpu(r) for r in {j["rule"] for j in jobs if j["rule"].startswith("plot_")}
        )
        / count("compute_metrics"),
    }


def project(
    w: dict,
    m: dict,
    alignment: str,
    g: dict | None = None,
    batch: int = 32,
    job_cpu_ratio: float = 1.0,
    prep_s_per_face: float | None = None,
) -> list[tuple[str, float, float | None]]:
    """(stage, CPU seconds, wall seconds on the measured GPU node or None) for the whole study."""
    u = unit_costs(w)
    per_ds = IMAGES / DATASETS
    scale = (per_ds / u["images"]) ** 2  # scoring and metrics grow with the number of pairs
    forward = {k: m[SFACE_AS if k == "sface" else k]["forward_cpu_s_per_face"] for k in MODELS}
    haar = sum(v["detector_cpu_s_per_image"] for v in m.values()) / len(m)
    extract = sum(v["end_to_end_extract_cpu_s_per_image"] for v in m.values()) / len(m)
    faces = IMAGES * VARIANTS
    torch_models = [k for k in MODELS if k not in CPU_ONLY]
    # end_to_end: eye alignment + crop per geometry
    align = extract if alignment == "end_to_end" else 0.0
    stages = [
        ("detection + landmarks (dlib HOG), once per image", IMAGES * u["detect_per_image"], None),
        ("masks, 16 stored variants", IMAGES * VARIANTS * u["mask_per_image"], None),
    ]
    if alignment == "end_to_end":
        stages.append(
            (
                "deepface detector, once per stored image (shared by the 9 models)",
                faces * haar,
                None,
            )
        )
    stages.append(
        (
            f"prepare_faces: decode, align, resize, once per stored image x {GEOMETRIES} input geometries",
            faces * GEOMETRIES * (prep_s_per_face or align + u["embed_rest_per_face"]),
            None,
        )
    )
    node = None
    if g is not None:  # measured on the node: the forward passes, one job after another on the GPU
        ratio = (lambda b: b["job_ratio"]) if g.get("path") == "prepared" else (lambda b: 1.0)
        node = sum(
            faces
            / g["models"][k]["batches"][str(batch)]["forward_faces_per_s"]
            * ratio(g["models"][k]["batches"][str(batch)])
            for k in torch_models
        )
    stages.append(
        (
            "embedding jobs, 7 PyTorch models: stream prepared faces, normalise, forward",
            faces * job_cpu_ratio * sum(forward[k] for k in torch_models),
            node,
        )
    )
    stages.append(
        (
            "embedding jobs, dlib + SFace (CPU only): stream prepared faces, forward",
            faces * job_cpu_ratio * sum(forward[k] for k in CPU_ONLY),
            None,
        )
    )
    pairs = len(MODELS) * DATASETS
    stages.append(
        (
            "protocol, thresholds, scoring, metrics, figures",
            DATASETS * u["protocol_per_dataset"] * scale
            + pairs
            * scale
            * (u["thresholds_per_job"] + VARIANTS * u["score_per_job"] + u["metrics_per_job"])
            + pairs * u["figures_per_model_dataset"],
            None,
        )
    )
    return stages


def hours(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:,.1f} h"


def wall(stages, cores: int, gpu: bool) -> float:
    return sum(node if (gpu and node is not None) else cpu / cores for _, cpu, node in stages)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workflow", type=Path, default=REPO / "benchmarks/results/workflow.json")
    ap.add_argument("--models", type=Path, default=REPO / "benchmarks/results/models.json")
    ap.add_argument(
        "--gpu",
        default=str(REPO / "benchmarks/results/gpu_h200_{alignment}.json"),
        help="bench_gpu.py's results on the GPU node, per alignment ('' for none)",
    )
    ap.add_argument(
        "--cpu-bench",
        default=str(REPO / "benchmarks/results/gpu_cpu2core_prepared_{alignment}.json"),
        help="bench_gpu.py on this machine: the embedding job's CPU over the forward pass's",
    )
    ap.add_argument("--batch-size", type=int, default=32, help="the study's embedding.batch_size")
    ap.add_argument("--node-cores", type=int, default=16)
    ap.add_argument("--nodes", type=int, default=10)
    args = ap.parse_args()
    w, m = json.loads(args.workflow.read_text()), json.loads(args.models.read_text())
    platforms = [
        ("this machine (2 cores, no GPU)", 2, False),
        (f"one GPU node ({args.node_cores} cores + 1 GPU, measured)", args.node_cores, True),
        (
            f"SLURM, {args.nodes} CPU nodes x {args.node_cores} cores",
            args.nodes * args.node_cores,
            False,
        ),
    ]
    for alignment in ("end_to_end", "shared_landmarks"):
        path = Path(args.gpu.format(alignment=alignment)) if args.gpu else None
        g = json.loads(path.read_text()) if path and path.is_file() else None
        ratio, prep, bench = 1.0, None, Path(args.cpu_bench.format(alignment=alignment))
        # the largest job / forward CPU ratio measured here, at the study's batch size,
        if bench.is_file():
            # and the preparation's CPU per face (mean over its geometries)
            c = json.loads(bench.read_text())
            ratio = max(
                e["batches"][str(args.batch_size)]["cpu_ratio"] for e in c["models"].values()
            )
            prep = (
                sum(p["cpu_ms_per_face"] for p in c["prepare"].values()) / len(c["prepare"]) / 1000
            )
        stages = project(w, m, alignment, g, args.batch_size, ratio, prep)
        total = sum(cpu for _, cpu, _ in stages)
        print(
            f"\n{alignment}: {IMAGES:,} images x {VARIANTS} variants x {len(MODELS)} models; "
            f"{total / 3600:,.1f} CPU-hours\n"
        )
        print("| stage | CPU h | share | " + " | ".join(name for name, _, _ in platforms) + " |")
        print("|---|---:|---:|" + "---:|" * len(platforms))
        for name, cpu, node in stages:
            cells = [
                hours(node) if gpu and node is not None else hours(cpu / cores)
                for _, cores, gpu in platforms
            ]
            print(f"| {name} | {cpu / 3600:,.1f} | {cpu / total:.0%} | " + " | ".join(cells) + " |")
        print(
            "| **total wall time** | | | "
            + " | ".join(f"**{hours(wall(stages, cores, gpu))}**" for _, cores, gpu in platforms)
            + " |"
        )
        if g is not None:
            node = [
                (name, node if node is not None else cpu / args.node_cores)
                for name, cpu, node in stages
            ]
            name, longest = max(node, key=lambda s: s[1])
            fwd = sum(
                IMAGES
                * VARIANTS
                / g["models"][k]["batches"][str(args.batch_size)]["forward_faces_per_s"]
                for k in MODELS
                if k not in CPU_ONLY
            )
            measured = g.get("path") == "prepared"  # bench_gpu.py of the prepared-faces job
            print(
                f"\nGPU node ({g['device']}, batch {args.batch_size}; embedding jobs costed at "
                + (
                    "their measured job / forward ratio"
                    if measured
                    else "the forward pass alone: the prepared-faces job's ratio was not measured "
                    "on a GPU, a lower bound"
                )
                + f"): bottleneck '{name}', {hours(longest)}; the 7 networks' forward passes alone take {hours(fwd)}"
                f" of GPU time. Measured here: embedding job CPU / forward CPU x{ratio:.2f}"
                + (
                    f", preparation {1000 * prep:.1f} ms CPU per face and geometry."
                    if prep
                    else "."
                )
            )


if __name__ == "__main__":
    main()
