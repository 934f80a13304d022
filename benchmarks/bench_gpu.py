"""Faces per second of each PyTorch model: the forward pass alone against the embedding job end to end.

    python benchmarks/bench_gpu.py --workdir DIR [--models deepid openface] [--batch-sizes 32 256]
                                   [--images 2048] [--workers N] [--out benchmarks/results/gpu.json]

``DIR`` holds a demo run's stored variants (``results/masked/demo/<variant>/manifest.tsv``), its
landmarks (``results/faces/demo/landmarks.npz``) and, for ``end_to_end``, the regions of deepface's
detector (``results/located/opencv/demo/<variant>.npz``; computed here if absent, which needs the Haar
cascades: ``--fetch-dir``). The seven PyTorch networks of deepface run with random weights in
deepface's own architectures (tests/deepface_weights.py; the arithmetic is the real model's). The
same script runs on a CPU machine and on a GPU one (the device is deepface's: ``cuda:0`` when CUDA is
there); it prints, per model and batch size:

- **forward**: the network alone on a batch already prepared, on the device, in the layout the job
  gives it (``model(x)`` between two synchronisations; median of repeats);
- **represent**: from aligned face crops to vectors in host memory: deepface's preprocessing (resize
  with padding, normalise) in this process, the host-to-device copy, the forward pass and the copy back,
  one batch after another -- the column ``represent`` of issue 20's table;
- **job**: what an ``embed_images`` job does, from stored image files: decoding, alignment
  (``--alignment``) and preprocessing in ``--workers`` loader processes (:func:`maskaudit.embed.iter_loaded`)
  overlapped with the forward passes here, over ``--images`` images (the stored variants repeated),
  in steady state: the worker pool is started and warmed once beforehand (its start-up is printed);
- the ratios forward / represent and forward / job (1.0 = the network is the only limit).

Wall-clock faces per second. On the CPU the forward pass uses ``--threads`` threads and the loader
``--workers`` processes; CPU time per face of the forward pass and of the serial loader (decode +
align + preprocess, one process) is printed too, since a shared CPU makes wall time noisy. ``--parity N``
checks the job's vectors of the first N images against deepface's own ``represent`` steps from the same
face (``resize_image``, ``normalize_input``, ``client.forward``, one face at a time; the faces equal
deepface's ``extract_faces``: tests/test_models.py), and ``--reference`` against vectors another
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
sys.path.insert(0, str(REPO / "tests"))

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


def workers_cpu(pool) -> float | None:
    """User + system CPU seconds of the pool's worker processes so far (Linux ``/proc``), else None."""
    total = 0.0
    try:
        for pid in list(pool._processes):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


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


def load_inputs(workdir: Path, variants: list[str], images: int, alignment: str, fetch_dir: str | None):
    """The stored variants' rows repeated to ``images`` rows (unique ids), landmarks and regions."""
    import pandas as pd

    from maskaudit.detect import load_landmarks
    from maskaudit.models.located import FaceLocator, load_located, locate_images, save_located
    from maskaudit.masking import read_variant_manifest, stored_landmarks

    tables, landmarks, located = [], {}, {}
    for variant in variants:
        table = read_variant_manifest(workdir / f"results/masked/demo/{variant}/manifest.tsv")
        table = table[table.status == "ok"].assign(image_id=lambda t: variant + "/" + t.image_id)
        ids = table.image_id.str.split("/", n=1).str[1]
        shifted = stored_landmarks(table.assign(image_id=ids), load_landmarks(workdir / "results/faces/demo/landmarks.npz"))
        landmarks.update({f"{variant}/{i}": shifted.get(i) for i in ids})
        if alignment == "end_to_end":
            path = workdir / f"results/located/opencv/demo/{variant}.npz"
            if not path.is_file():
                locator = FaceLocator("opencv", True, fetch_dir=fetch_dir)
                path.parent.mkdir(parents=True, exist_ok=True)
                save_located(path, [i.split("/", 1)[1] for i in table.image_id], locate_images(locator, table),
                             locator.describe())
            located.update({f"{variant}/{k}": v for k, v in load_located(path).items()})
        tables.append(table[["image_id", "path", "status"]])
    base = pd.concat(tables, ignore_index=True)
    reps = -(-images // len(base))
    rows = pd.concat([base.assign(image_id=base.image_id + f"#{k}") for k in range(reps)], ignore_index=True)[:images]
    key = rows.image_id.str.split("#").str[0]
    return (rows.reset_index(drop=True), {i: landmarks[k] for i, k in zip(rows.image_id, key)},
            {i: located[k] for i, k in zip(rows.image_id, key) if k in located})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, required=True, help="a demo run's folder (see above)")
    ap.add_argument("--variants", nargs="+", default=["none", "surgical-blue"])
    ap.add_argument("--models", nargs="+", default=TORCH_MODELS)
    ap.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 256])
    ap.add_argument("--images", type=int, default=2048, help="images per job measurement")
    ap.add_argument("--alignment", default="end_to_end", choices=["end_to_end", "shared_landmarks"])
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                    help="loader processes (default: all cores but the one that runs the forward passes)")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads on a CPU")
    ap.add_argument("--fetch-dir", default=str(REPO / "resources/weights"), help="Haar cascades (end_to_end)")
    ap.add_argument("--parity", type=int, default=0, help="images checked against DeepFace.represent per model")
    ap.add_argument("--save-vectors", type=Path, help="write the first 32 job vectors of each model here (.npz)")
    ap.add_argument("--reference", type=Path, help="compare the job vectors with these (.npz from --save-vectors)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/gpu.json")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import logging

    import numpy as np
    import torch
    from deepface_weights import write_random_weights

    from maskaudit.embed import _load_batch, embed_images, loader_pool
    from maskaudit.imageio import read_rgb
    from maskaudit.models import get_card, load_model
    from maskaudit.models.base import limit_threads, prepare_face
    from maskaudit.models.files import required_files

    logging.getLogger("maskaudit.embed").setLevel(logging.ERROR)  # the demo's missed faces, once per repeat
    home = Path(tempfile.mkdtemp(prefix="deepface-home-"))
    os.environ["DEEPFACE_HOME"] = str(home)
    table, landmarks, located = load_inputs(args.workdir, args.variants, args.images, args.alignment, args.fetch_dir)
    cuda = torch.cuda.is_available()
    min_s = 0.5 if cuda else 3.0  # a shared CPU is noisy: longer repeats
    device_name = torch.cuda.get_device_name(0) if cuda else f"{platform.processor() or platform.machine()} CPU"
    header = (f"bench_gpu: {device_name}, {os.cpu_count()} cores, torch {torch.__version__}, {args.alignment}, "
              f"{len(table)} stored images per job, {args.workers} loader workers"
              + ("" if cuda else f", {args.threads} PyTorch thread(s)"))
    print(header, flush=True)

    pool, pool_start = loader_pool(args.workers), None

    reference = dict(np.load(args.reference)) if args.reference else {}
    results, saved = {"device": device_name, "cores": os.cpu_count(), "torch": torch.__version__,
                      "alignment": args.alignment, "images": len(table), "workers": args.workers,
                      "threads": None if cuda else args.threads, "models": {}}, {}
    for model_id in args.models:
        card = get_card(model_id)
        write_random_weights(card.deepface_name, home / ".deepface/weights" / required_files(card, "shared_landmarks")[0].name)
        if cuda:  # nothing of the previous model left: its deepface cache, its tensors
            from deepface.modules import modeling

            modeling.__dict__.pop("cached_models", None)
            gc.collect()
            torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated() if cuda else 0
        model = load_model(model_id, args.alignment, weights_dir=str(home / ".deepface/weights"),
                           fetch_dir=args.fetch_dir)
        limit_threads(args.threads)
        dev = model.device
        pipe = model.pipeline()
        item = (0, table.path.iloc[0], landmarks.get(table.image_id.iloc[0]), located.get(table.image_id.iloc[0]))
        start = time.perf_counter()
        list(pool.map(_load_batch, [pipe] * 4 * args.workers, [[item]] * 4 * args.workers))  # warm every worker
        if pool_start is None:  # spawning the workers and their imports: once per job
            pool_start = time.perf_counter() - start
            results["pool_start_s"] = pool_start
            print(f"loader pool start-up (once per job): {pool_start:.1f} s", flush=True)
        crops, n_loaded, cpu0 = [], 0, time.process_time()
        for row in table.head(64).itertuples():  # the serial loader's CPU per face, and crops for `represent`
            face = model.acquire(read_rgb(row.path), landmarks.get(row.image_id), located.get(row.image_id))
            if face.status == "ok":
                crops.append(face.crop)
                prepare_face(face.crop, card.input_size, card.normalization)
                n_loaded += 1
        entry = {"device": dev, "loader_cpu_ms_per_face": 1000 * (time.process_time() - cpu0) / max(n_loaded, 1),
                 "batches": {}}
        for bs in args.batch_sizes:
            batch = np.stack([prepare_face(crops[k % len(crops)], card.input_size, card.normalization)
                              for k in range(bs)])
            x = torch.from_numpy(batch).to(dev).permute(0, 3, 1, 2)  # the job's layout on the device
            with torch.no_grad():
                fwd, fwd_cpu = timed(lambda: model.client.model(x), dev, min_s)
            reps = [crops[k % len(crops)] for k in range(bs)]
            rep, rep_cpu = timed(lambda: model.represent(reps), dev, min_s)
            del x
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            start, cpu, wcpu = time.perf_counter(), time.process_time(), workers_cpu(pool)
            with Utilisation() if cuda else nullcontext() as busy:
                vectors, status, _ = embed_images(model, table, landmarks, bs, located or None, workers=pool)
                sync(dev)
            job, cpu = time.perf_counter() - start, time.process_time() - cpu
            wcpu = None if wcpu is None or workers_cpu(pool) is None else workers_cpu(pool) - wcpu
            ok = sum(s == "ok" for s in status)
            row = {"forward_faces_per_s": bs / fwd, "represent_faces_per_s": bs / rep, "job_faces_per_s": ok / job,
                   "job_images_per_s": len(table) / job, "represent_ratio": (bs / fwd) / (bs / rep),
                   "job_ratio": (bs / fwd) / (ok / job), "embedded": ok, "images": len(table),
                   "cpu_ms_per_face": {"forward": 1000 * fwd_cpu / bs, "represent": 1000 * rep_cpu / bs,
                                       "job_main": 1000 * cpu / ok,
                                       "job_workers": None if wcpu is None else 1000 * wcpu / ok}}
            c = row["cpu_ms_per_face"]
            if not cuda and c["job_workers"] is not None:  # a CPU node full of jobs: CPU per face decides
                row["cpu_ratio"] = {"represent": c["represent"] / c["forward"],
                                    "job": (c["job_main"] + c["job_workers"]) / c["forward"]}
            if cuda:  # this model's weights + activations (the allocator's peak above what was there before)
                row["peak_gpu_mb"] = (torch.cuda.max_memory_allocated() - base) / 2**20
                row["gpu_utilisation_pct"] = busy.mean
                free, total = torch.cuda.mem_get_info()
                results.setdefault("cuda_context_mb", ((total - free) - torch.cuda.memory_reserved()) / 2**20)
            entry["batches"][bs] = row
            print(f"{model_id:11s} batch {bs:4d} on {dev}: forward {row['forward_faces_per_s']:10,.0f}/s   represent "
                  f"{row['represent_faces_per_s']:9,.0f}/s (x{row['represent_ratio']:.2f})   job "
                  f"{row['job_faces_per_s']:9,.0f}/s (x{row['job_ratio']:.2f})   CPU ms/face: forward "
                  f"{c['forward']:.3f}, represent {c['represent']:.3f}, job {c['job_main']:.3f} here + "
                  f"{c['job_workers'] or float('nan'):.3f} in workers"
                  + (f"   peak {row['peak_gpu_mb']:,.0f} MiB, GPU busy {busy.mean or float('nan'):.0f}%"
                     if cuda else ""), flush=True)
        first = vectors[:32]
        saved[model_id] = first
        if model_id in reference:
            ref = reference[model_id]
            cos = np.sum(first * ref, 1) / np.linalg.norm(first, axis=1) / np.linalg.norm(ref, axis=1)
            entry["min_cosine_vs_reference"] = float(np.nanmin(cos))
            print(f"{model_id:11s} vectors vs --reference: min cosine {entry['min_cosine_vs_reference']:.7f}")
        if args.parity:  # deepface's represent from the face on: resize_image, normalize_input, client.forward
            from deepface.modules.preprocessing import normalize_input, resize_image

            cos, w, h = [], *card.input_size
            for k in range(args.parity):
                if status[k] != "ok":
                    continue
                face = model.acquire(read_rgb(table.path.iloc[k]), landmarks.get(table.image_id.iloc[k]),
                                     located.get(table.image_id.iloc[k])).crop
                theirs = np.asarray(model.client.forward(normalize_input(resize_image(face[:, :, ::-1], (h, w)),
                                                                         card.normalization)))
                v = vectors[k]
                cos.append(float(v @ theirs / np.linalg.norm(v) / np.linalg.norm(theirs)))
            entry["min_cosine_vs_deepface"], entry["parity_faces"] = min(cos), len(cos)
            print(f"{model_id:11s} vs deepface's represent (one face at a time, from the same face) on {len(cos)} "
                  f"faces: min cosine {min(cos):.7f}", flush=True)
        results["models"][model_id] = entry
        del model
        if cuda:
            torch.cuda.empty_cache()
    pool.shutdown()
    if args.save_vectors:
        np.savez(args.save_vectors, **saved)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{header}\n")
    wall = "faces/s, wall clock" + ("" if cuda else "; CPU ratios: CPU time per face over the forward pass's")
    extra = " peak MiB | GPU busy % |" if cuda else " CPU x represent | CPU x job |"
    print(f"| model | batch | forward | represent | x | job | x |{extra} ({wall})")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model_id, entry in results["models"].items():
        for bs, r in entry["batches"].items():
            if cuda:
                cpu_cols = f" {r['peak_gpu_mb']:,.0f} | {r['gpu_utilisation_pct'] or float('nan'):.0f} |"
            else:
                cpu_cols = "" if "cpu_ratio" not in r else f" {r['cpu_ratio']['represent']:.2f} | {r['cpu_ratio']['job']:.2f} |"
            print(f"| {model_id} | {bs} | {r['forward_faces_per_s']:,.0f} | {r['represent_faces_per_s']:,.0f} | "
                  f"{r['represent_ratio']:.2f} | {r['job_faces_per_s']:,.0f} | {r['job_ratio']:.2f} |{cpu_cols}")

if __name__ == "__main__":
    main()
