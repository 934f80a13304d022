"""Progress bars and log setup shared by the workflow's scripts."""

from __future__ import annotations

import logging
import sys
from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str, unit: str = "it", total: int | None = None) -> Iterable[T]:
    """A tqdm bar on stderr (the rule's log under Snakemake), updated at most every 2 s."""
    return tqdm(items, desc=desc, unit=unit, total=total, file=sys.stderr, mininterval=2.0,
                dynamic_ncols=False, ncols=100, ascii=True)


def setup_logging(log_path: str | None = None) -> None:
    """Send logging (and stderr, where progress bars go) to ``log_path`` when given."""
    if log_path:
        sys.stderr = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives for the process
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)
