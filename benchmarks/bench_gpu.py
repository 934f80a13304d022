"""Faces per second of each PyTorch model: the forward pass alone against the embedding job, and the shared preparation.

    python benchmarks/bench_gpu.py --workdir DIR [--models deepid openface] [--batch-sizes 32 256]
                                   [--images 2048] [--workers N] [--out benchmarks/results/gpu.json]

``DIR`` holds a demo run's stored variants (``results/masked/demo/<variant>/manifest.tsv``), its
landmarks (``results/faces/demo/landmarks.npz``) and, for ``end_to_end``, the regions of deepface's
detector (``results/located/opencv/demo/<variant>.npz``; computed here if absent, which needs the Haar
cascades: ``--fetch-dir``). The seven PyTorch networks of deepface run with random weights in
deepface's own architectures (tests/support/deepface_weights.py; the arithmetic is the real model's). The
same script runs on a CPU machine and on a GPU one (the device is deepface's: ``cuda:0`` when CUDA is
there); it prints, per model and batch size:

- **forward**: the network alone on a batch already prepared, on the device, in the layout the job
  gives it (``model(x)`` between two synchronisations; median of repeats);
- **job**: what an ``embed_images`` job does (:func:`maskaudit.embed.embed_prepared`): the faces the
  ``prepare_faces`` stage stored (an uncompressed ``.npy``, here just written, so in the page cache as on
  a node that prepared them) read in batches by a background thread, normalised (on the device on CUDA)
  and run through the network, over ``--images`` faces (the stored variants repeated); the ratio
  forward / job (1.0 = the network is the only limit);
- **prepare** (once per input geometry, shared by every model with that geometry: Facenet and
  Facenet512 here): the ``prepare_faces`` stage, decode + align + deepface's resize with padding, CPU
  time per face in one process (the rate per core) and wall-clock faces per second with ``--workers``
  processes. Its cost is amortised over the models that share it; it is not part of the job's ratio.

Wall-clock faces per second. On the CPU the forward pass uses ``--threads`` threads; CPU time per face
of the forward pass and of the job is printed too, since a shared CPU makes wall time noisy. ``--parity N``
checks the job's vectors of the first N faces against deepface's own ``represent`` steps from the same
face (``resize_image``, ``normalize_input``, ``client.forward``, one face at a time; the faces equal
deepface's ``extract_faces``: tests/unit/test_models.py), and ``--reference`` against vectors another
machine wrote with ``--save-vectors`` (e.g. the CPU's).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))

TORCH_MODELS = ["vgg_face", "facenet", "facenet512", "openface", "deepface", "deepid", "arcface"]


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str, min_s: float = 0.5, min_reps: int = 3) -> tuple[float, float]:
    """Median wall seconds of ``fn()`` over repeats lasting at least ``min_s`` in all, and the mean
    CPU seconds of this process per call."""
    fn()
    sync(device)
    times: list[float] = []
    cpu = time.process_time()
    while sum(times) < min_s or len(times) < min_reps:
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), (time.process_time() - cpu) / len(times)


class Utilisation:
    """Mean GPU utilisation (NVML, every 20 ms) while the block runs; ``None`` without NVML."""

    def __enter__(self):
        import threading

        import torch

        self.samples, self.stop = [], threading.Event()

        def sample():
            while not self.stop.wait(0.02):
                try:
                    self.samples.append(torch.cuda.utilization())
                except Exception:  # no NVML (pynvml missing): no figure
                    return

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.mean = sum(self.samples) / len(self.samples) if self.samples else None


def load_inputs(
    workdir: Path, variants: list[str], images: int, alignment: str, fetch_dir: str | None
):
    """The stored variants' rows repeated to ``images`` rows (unique ids), landmarks and regions."""
    import pandas as pd

    from maskaudit.detect import load_landmarks
    from maskaudit.masking import read_variant_manifest, stored_landmarks
    from maskaudit.models.located import FaceLocator, load_located, locate_images, save_located

    tables, landmarks, located = [], {}, {}
    for variant in variants:
        table = read_variant_manifest(workdir / f"results/masked/demo/{variant}/manifest.tsv")
        table = table[table.status == "ok"].assign(image_id=lambda t: variant + "/" + t.image_id)
        ids = table.image_id.str.split("/", n=1).str[1]
        shifted = stored_landmarks(
            table.assign(image_id=ids), load_landmarks(workdir / "results/faces/demo/landmarks.npz")
        )
        landmarks.update({f"{variant}/{i}": shifted.get(i) for i in ids})
        if alignment == "end_to_end":
            path = workdir / f"results/located/opencv/demo/{variant}.npz"
            if not path.is_file():
                locator = FaceLocator("opencv", True, fetch_dir=fetch_dir)
                path.parent.mkdir(parents=True, exist_ok=True)
                save_located(
                    path,
                    [i.split("/", 1)[1] for i in table.image_id],
                    locate_images(locator, table),
                    locator.describe(),
                )
            located.update({f"{variant}/{k}": v for k, v in load_located(path).items()})
        tables.append(table[["image_id", "path", "status"]])
    base = pd.concat(tables, ignore_index=True)
    reps = -(-images // len(base))
    rows = pd.concat(
        [base.assign(image_id=base.image_id + f"#{k}") for k in range(reps)], ignore_index=True
    )[:images]
    key = rows.image_id.str.split("#").str[0]
    return (
        rows.reset_index(drop=True),
        {i: landmarks[k] for i, k in zip(rows.image_id, key)},
        {i: located[k] for i, k in zip(rows.image_id, key) if k in located},
    )


def prepare_stage(
    card, alignment, table, landmarks, located, pool, workers, folder: Path
) -> tuple[Path, Path, dict]:
    """The ``prepare_faces`` stage for one input geometry: CPU per face in this process on the first 256
    rows (the rate per core), then the whole table with the worker pool (wall clock), into ``folder``."""
    from maskaudit.prepare import PrepCard, prepare_images, write_prepared

    prep = PrepCard.of(card)
    head = table.head(256)
    cpu = time.process_time()
    _, meta = prepare_images(prep, alignment, head, landmarks, located or None, workers=0)
    cpu = time.process_time() - cpu
    n_head = int((meta["slot"] >= 0).sum())
    faces, meta_path = folder / "faces.npy", folder / "meta.npz"
    start = time.perf_counter()
    meta = write_prepared(
        faces, meta_path, prep, alignment, table, landmarks, located or None, workers=pool
    )
    wall = time.perf_counter() - start
    n = int((meta["slot"] >= 0).sum())
    return (
        faces,
        meta_path,
        {
            "cpu_ms_per_face": 1000 * cpu / max(n_head, 1),
            "faces_per_s_per_core": n_head / cpu,
            "wall_faces_per_s": n / wall,
            "workers": workers,
            "faces": n,
            "images": len(table),
            "file_mb": faces.stat().st_size / 2**20,
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, required=True, help="a demo run's folder (see above)")
    ap.add_argument("--variants", nargs="+", default=["none", "surgical-blue"])
    ap.add_argument("--models", nargs="+", default=TORCH_MODELS)
    ap.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 256])
    ap.add_argument("--images", type=int, default=2048, help="images per job measurement")
    ap.add_argument("--alignment", default="end_to_end", choices=["end_to_end", "shared_landmarks"])
    ap.add_argument(
        "--workers",
        type=int,
        default=max(1, (os.cpu_count() or 2)),
        help="processes of the preparation stage (default: all cores)",
    )
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads on a CPU")
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="job measurements per batch size (the median is kept)",
    )
    ap.add_argument(
        "--fetch-dir", default=str(REPO / "resources/weights"), help="Haar cascades (end_to_end)"
    )
    ap.add_argument(
        "--parity", type=int, default=0, help="faces checked against deepface's represent per model"
    )
    ap.add_argument(
        "--save-vectors", type=Path, help="write the first 32 job vectors of each model here (.npz)"
    )
    ap.add_argument(
        "--reference",
        type=Path,
        help="compare the job vectors with these (.npz from --save-vectors)",
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/gpu.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import logging

    import numpy as np
    import torch
    from deepface_weights import write_random_weights

    from maskaudit.embed import _load_batch, embed_prepared, loader_pool
    from maskaudit.imageio import read_rgb
    from maskaudit.models import get_card, load_model
    from maskaudit.models.base import FacePipeline, limit_threads, normalize_batch
    from maskaudit.models.files import required_files
    from maskaudit.prepare import load_prepared, prep_id

    logging.getLogger("maskaudit.prepare").setLevel(logging.ERROR)  # the demo's missed faces
    home = Path(tempfile.mkdtemp(prefix="deepface-home-"))
    scratch = Path(tempfile.mkdtemp(prefix="prepared-"))
    os.environ["DEEPFACE_HOME"] = str(home)
    table, landmarks, located = load_inputs(
        args.workdir, args.variants, args.images, args.alignment, args.fetch_dir
    )
    cuda = torch.cuda.is_available()
    min_s = 0.5 if cuda else 3.0  # a shared CPU is noisy: longer repeats
    device_name = (
        torch.cuda.get_device_name(0)
        if cuda
        else f"{platform.processor() or platform.machine()} CPU"
    )
    header = (
        f"bench_gpu: {device_name}, {os.cpu_count()} cores, torch {torch.__version__}, {args.alignment}, "
        f"{len(table)} stored images per job, preparation in {args.workers} processes"
        + ("" if cuda else f", {args.threads} PyTorch thread(s)")
    )
    print(header, flush=True)

    pool = loader_pool(args.workers)
    item = (
        0,
        table.path.iloc[0],
        landmarks.get(table.image_id.iloc[0]),
        located.get(table.image_id.iloc[0]),
    )
    start = time.perf_counter()
    pipe = FacePipeline(get_card(args.models[0]), args.alignment, normalize=False)
    # warm every worker
    list(pool.map(_load_batch, [pipe] * 4 * args.workers, [[item]] * 4 * args.workers))
    reference = dict(np.load(args.reference)) if args.reference else {}
    results, saved = (
        {
            "path": "prepared",
            "device": device_name,
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "alignment": args.alignment,
            "images": len(table),
            "workers": args.workers,
            "threads": None if cuda else args.threads,
            "pool_start_s": time.perf_counter() - start,
            "prepare": {},
            "models": {},
        },
        {},
    )
    print(f"preparation pool start-up (once per job): {results['pool_start_s']:.1f} s", flush=True)
    prepared: dict[str, tuple[Path, Path]] = {}
    for model_id in args.models:
        card = get_card(model_id)
        write_random_weights(
            card.deepface_name,
            home / ".deepface/weights" / required_files(card, "shared_landmarks")[0].name,
        )
        if cuda:  # nothing of the previous model left: its deepface cache, its tensors
            from deepface.modules import modeling

            modeling.__dict__.pop("cached_models", None)
            gc.collect()
            torch.cuda.empty_cache()
        pid = prep_id(card, args.alignment)
        if pid not in prepared:
            folder = scratch / pid
            folder.mkdir()
            faces_path, meta_path, stats = prepare_stage(
                card, args.alignment, table, landmarks, located, pool, args.workers, folder
            )
            prepared[pid] = (faces_path, meta_path)
            results["prepare"][pid] = {**stats, "models": []}
            print(
                f"prepare {pid}: {stats['cpu_ms_per_face']:.2f} ms CPU per face ({stats['faces_per_s_per_core']:,.0f} "
                f"faces/s per core); {stats['wall_faces_per_s']:,.0f} faces/s with {args.workers} processes; "
                f"{stats['file_mb']:,.0f} MiB",
                flush=True,
            )
        results["prepare"][pid]["models"].append(model_id)
        faces, meta = load_prepared(*prepared[pid])
        base = torch.cuda.memory_allocated() if cuda else 0
        model = load_model(
            model_id,
            args.alignment,
            weights_dir=str(home / ".deepface/weights"),
            fetch_dir=args.fetch_dir,
        )
        limit_threads(args.threads)
        dev = model.device
        ok_rows = np.flatnonzero(meta["slot"] >= 0)
        entry = {"device": dev, "prep_id": pid, "batches": {}}
        for bs in args.batch_sizes:
            batch = np.take(faces, meta["slot"][ok_rows[np.arange(bs) % len(ok_rows)]], axis=0)
            batch = normalize_batch(batch, card.normalization)
            # the job's layout on the device
            x = torch.from_numpy(batch).to(dev).permute(0, 3, 1, 2)
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            runs = []  # forward and job measured in turn, so that a shared machine's load drifts out of the ratio
            for _ in range(args.repeats):
                with torch.no_grad():
                    fwd, fwd_cpu = timed(lambda: model.client.model(x), dev, min_s / args.repeats)  # noqa: F821 (x is deleted after the loop)
                start, cpu = time.perf_counter(), time.process_time()
                with Utilisation() if cuda else nullcontext() as busy:
                    vectors, status, _ = embed_prepared(model, faces, meta, bs)
                    sync(dev)
                job = time.perf_counter() - start
                ok = sum(s == "ok" for s in status)
                runs.append(
                    {
                        "forward_s_per_face": fwd / bs,
                        "forward_cpu_s_per_face": fwd_cpu / bs,
                        "job_s_per_face": job / ok,
                        "job_cpu_s_per_face": (time.process_time() - cpu) / ok,
                        "ratio": (job / ok) / (fwd / bs),
                        "util": busy.mean if cuda else None,
                    }
                )
            del x
            med = sorted(runs, key=lambda r: r["ratio"])[len(runs) // 2]  # the median pair
            fwd, fwd_cpu, job, cpu, util = (
                bs * med["forward_s_per_face"],
                bs * med["forward_cpu_s_per_face"],
                med["job_s_per_face"],
                med["job_cpu_s_per_face"],
                med["util"],
            )
            ok = sum(s == "ok" for s in status)
            row = {
                "forward_faces_per_s": bs / fwd,
                "job_faces_per_s": 1 / job,
                "job_ratio": med["ratio"],
                "job_ratios": [r["ratio"] for r in runs],
                "embedded": ok,
                "images": len(table),
                "cpu_ms_per_face": {"forward": 1000 * fwd_cpu / bs, "job": 1000 * cpu},
            }
            c = row["cpu_ms_per_face"]
            if not cuda:  # a CPU node full of jobs: CPU per face decides
                row["cpu_ratio"] = c["job"] / c["forward"]
            if cuda:  # this model's weights + activations (the allocator's peak above what was there before)
                row["peak_gpu_mb"] = (torch.cuda.max_memory_allocated() - base) / 2**20
                row["gpu_utilisation_pct"] = util
                free, total = torch.cuda.mem_get_info()
                results.setdefault(
                    "cuda_context_mb", ((total - free) - torch.cuda.memory_reserved()) / 2**20
                )
            entry["batches"][bs] = row
            print(
                f"{model_id:11s} batch {bs:4d} on {dev}: forward {row['forward_faces_per_s']:10,.0f}/s   job "
                f"{row['job_faces_per_s']:9,.0f}/s (x{row['job_ratio']:.2f})   CPU ms/face: forward "
                f"{c['forward']:.3f}, job {c['job']:.3f}"
                + (
                    f"   peak {row['peak_gpu_mb']:,.0f} MiB, GPU busy {util or float('nan'):.0f}%"
                    if cuda
                    else f" (CPU x{row['cpu_ratio']:.2f})"
                ),
                flush=True,
            )
        first = vectors[:32]
        saved[model_id] = first
        if model_id in reference:
            ref = reference[model_id]
            cos = (
                np.sum(first * ref, 1) / np.linalg.norm(first, axis=1) / np.linalg.norm(ref, axis=1)
            )
            entry["min_cosine_vs_reference"] = float(np.nanmin(cos))
            print(
                f"{model_id:11s} vectors vs --reference: min cosine {entry['min_cosine_vs_reference']:.7f}"
            )
        # deepface's represent from the face on: resize_image, normalize_input, client.forward
        if args.parity:
            from deepface.modules.preprocessing import normalize_input, resize_image

            cos, w, h = [], *card.input_size
            for k in range(args.parity):
                if status[k] != "ok":
                    continue
                face = model.acquire(
                    read_rgb(table.path.iloc[k]),
                    landmarks.get(table.image_id.iloc[k]),
                    located.get(table.image_id.iloc[k]),
                ).crop
                theirs = np.asarray(
                    model.client.forward(
                        normalize_input(resize_image(face[:, :, ::-1], (h, w)), card.normalization)
                    )
                )
                v = vectors[k]
                cos.append(float(v @ theirs / np.linalg.norm(v) / np.linalg.norm(theirs)))
            entry["min_cosine_vs_deepface"], entry["parity_faces"] = min(cos), len(cos)
            print(
                f"{model_id:11s} vs deepface's represent (one face at a time, from the same face) on {len(cos)} "
                f"faces: min cosine {min(cos):.7f}",
                flush=True,
            )
        results["models"][model_id] = entry
        del model, faces
        later = [
            m
            for m in args.models[args.models.index(model_id) + 1 :]
            if prep_id(get_card(m), args.alignment) == pid
        ]
        if not later:  # no model left takes these faces: free the disk
            for path in prepared[pid]:
                path.unlink()
        if cuda:
            torch.cuda.empty_cache()
    pool.shutdown()
    if args.save_vectors:
        np.savez(args.save_vectors, **saved)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{header}\n")
    print(
        "| prepared faces | models | CPU ms / face | faces/s per core | faces/s, all workers | MiB |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for pid, p in results["prepare"].items():
        print(
            f"| {pid} | {', '.join(p['models'])} | {p['cpu_ms_per_face']:.2f} | {p['faces_per_s_per_core']:,.0f} | "
            f"{p['wall_faces_per_s']:,.0f} | {p['file_mb']:,.0f} |"
        )
    extra = " peak MiB | GPU busy % |" if cuda else " CPU x |"
    print(
        f"\n| model | batch | forward | job | x |{extra} (faces/s, wall clock; x = forward / job)"
    )
    print("|---|---:|---:|---:|---:|---:|" + ("---:|" if cuda else ""))
    for model_id, entry in results["models"].items():
        for bs, r in entry["batches"].items():
            cols = (
                f" {r['peak_gpu_mb']:,.0f} | {r['gpu_utilisation_pct'] or float('nan'):.0f} |"
                if cuda
                else f" {r['cpu_ratio']:.2f} |"
            )
            print(
                f"| {model_id} | {bs} | {r['forward_faces_per_s']:,.0f} | {r['job_faces_per_s']:,.0f} | "
                f"{r['job_ratio']:.2f} |{cols}"
            )


if __name__ == "__main__":
    main()
