"""Cost of the vendor wrapper on the wire: calls/s per vendor against the loopback fakes, sent vs cached.

    PYTHONPATH=. python benchmarks/bench_vendors.py [--pairs 40]

Each vendor's fake (tests/support/fakes) runs in this process; its face engine is warmed first, so the
numbers are the client side (image bytes, signing, HTTP, parsing, ledger, cache) plus the fake's
request handling, not a real vendor's latency. Distinct crops of Grace Hopper's portrait give
distinct cache keys. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from fakes.azure import FakeAzure  # noqa: E402
from fakes.facepp import FakeFacePP  # noqa: E402
from fakes.faces import ORACLE  # noqa: E402
from fakes.facex import FakeFaceX  # noqa: E402
from fakes.rekognition import FakeRekognition  # noqa: E402

from maskaudit.vendors.images import prepare_array  # noqa: E402
from maskaudit.vendors.registry import open_adapter  # noqa: E402

ENV = {
    "AWS_ACCESS_KEY_ID": "AKIABENCH",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "FACE_APIKEY": "bench",
    "FACEPP_API_KEY": "bench",
    "FACEPP_API_SECRET": "bench",
    "FACEX_USER_ID": "bench",
}
COMMON = {
    "max_calls": None,
    "max_usd": None,
    "rate_per_s": 1e6,
    "burst": 1000,
    "max_retries": 0,
    "backoff_base_s": 0.0,
    "backoff_cap_s": 0.0,
    "timeout_s": 30,
    "identification": "none",
    "top_k": 5,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=40)
    args = ap.parse_args()
    os.environ.update(ENV)
    rgb = np.asarray(
        Image.open(Path(matplotlib.get_data_path()) / "sample_data/grace_hopper.jpg").convert("RGB")
    )
    fakes = {
        "rekognition": FakeRekognition("AKIABENCH", "bench"),
        "azure": FakeAzure("bench"),
        "facepp": FakeFacePP("bench", "bench"),
        "facex": FakeFaceX("bench"),
    }
    print(
        f"maskaudit vendor wrapper benchmark: {args.pairs} distinct pairs per vendor, loopback fakes, "
        f"{platform.machine()}, {os.cpu_count()} cores\n"
    )
    print("| vendor | sent: calls/s | sent: ms/pair | cached: pairs/s |\n|---|---:|---:|---:|")
    for vendor, fake in fakes.items():
        with fake:
            settings = {
                **COMMON,
                "region": "us-east-1",
                "endpoint_url": fake.url,
                "endpoint": fake.url,
                "base_url": fake.url,
                "api_version": "v1.0",
                "detection_model": "detection_03",
                "recognition_model": "recognition_04",
            }
            cache = tempfile.mkdtemp()
            adapter = open_adapter(vendor, settings, cache)
            images = [prepare_array(rgb[k:, k:], adapter.limits) for k in range(args.pairs + 1)]
            for img in images:  # warm the fake's face engine: time the wire, not dlib
                ORACLE.embedding(img.data)
            pairs = [(images[k], images[k + 1]) for k in range(args.pairs)]
            start = time.perf_counter()
            for a, b in pairs:
                adapter.compare(a, b)
            sent = time.perf_counter() - start
            calls = adapter.client.counters.calls
            again = open_adapter(vendor, settings, cache)
            start = time.perf_counter()
            for a, b in pairs:
                again.compare(a, b)
            cached = time.perf_counter() - start
            assert again.client.counters.calls == 0
            print(
                f"| {vendor} | {calls / sent:.1f} | {1000 * sent / len(pairs):.1f} | {len(pairs) / cached:.0f} |"
            )


if __name__ == "__main__":
    main()
