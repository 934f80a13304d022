"""Throughput of the dataset stage on a synthetic archive in UTKFace's layout.

    PYTHONPATH=. python benchmarks/bench_datasets.py [--images 3000]

Times, on this machine, each step a real dataset goes through: a loopback HTTP download (resumable
downloader), unpacking, the adapter's reading plus the decode check of every image
(build_manifest), and the seeded stratified sample. Images are small drawn faces (48x48 JPEG), so
decode time per image is a lower bound for real 200x200 crops. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import platform
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from dataset_fixtures import FileServer, face_jpeg  # noqa: E402

from maskaudit.datasets.adapters import get_adapter  # noqa: E402
from maskaudit.datasets.build import build_manifest  # noqa: E402
from maskaudit.datasets.download import Archive, download  # noqa: E402
from maskaudit.datasets.extract import extract_all  # noqa: E402
from maskaudit.datasets.sample import stratified_sample  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=3000)
    n = ap.parse_args().images
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(n):
            data = face_jpeg(i % 500)
            info = tarfile.TarInfo(
                f"UTKFace/{20 + i % 60}_{i % 2}_{i % 5}_{20170101000000000 + i}.jpg.chip.jpg"
            )
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    blob = buf.getvalue()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FileServer({"UTKFace.tar.gz": blob}) as srv:
        tmp = Path(tmp)
        arc = Archive(
            "UTKFace.tar.gz",
            srv.url + "UTKFace.tar.gz",
            checksum="sha256:" + hashlib.sha256(blob).hexdigest(),
        )
        t = time.perf_counter()
        download(arc, tmp / "UTKFace.tar.gz")
        rows.append(
            (
                "download (loopback, verified)",
                len(blob) / 2**20 / (time.perf_counter() - t),
                "MiB/s",
            )
        )
        t = time.perf_counter()
        extract_all([tmp / "UTKFace.tar.gz"], tmp / "x")
        rows.append(("extract tar.gz", n / (time.perf_counter() - t), "img/s"))
        t = time.perf_counter()
        df, _ = build_manifest(get_adapter("utkface"), tmp / "x")
        rows.append(
            ("adapter read + taxonomy + decode check", n / (time.perf_counter() - t), "img/s")
        )
        t = time.perf_counter()
        stratified_sample(df, seed=1, dataset="utkface", images_per_cell=n // 20)
        rows.append(("stratified sample (10 cells)", n / (time.perf_counter() - t), "img/s"))
    print(
        f"maskaudit dataset benchmark: {n} images ({len(blob) / 2**20:.1f} MiB archive), "
        f"{platform.machine()}, single process\n"
    )
    print("| step | throughput | unit |\n|---|---:|---|")
    for name, value, unit in rows:
        print(f"| {name} | {value:,.1f} | {unit} |")


if __name__ == "__main__":
    main()
