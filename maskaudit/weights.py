"""Finding model weight files on disk. Nothing is ever downloaded at run time."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from maskaudit.datasets.sources import sha256_file


class WeightsNotFound(FileNotFoundError):
    """A weight file is missing; the message lists where it was looked for and how to provide it."""


def packaged_dirs() -> list[Path]:
    """Folders of registry packages that ship weights (only ``face-recognition-models`` does)."""
    spec = importlib.util.find_spec("face_recognition_models")  # located, never imported (setuptools>=81 breaks its import)
    if spec is None or spec.origin is None:
        return []
    return [Path(spec.origin).parent / "models"]


def find_weights(filename: str, weights_dir: str | Path | None = None) -> Path:
    """Return the path of ``filename``, looking in ``weights_dir`` first, then in packaged folders."""
    searched = ([Path(weights_dir)] if weights_dir else []) + packaged_dirs()
    for folder in searched:
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    where = ", ".join(str(p) for p in searched) or "(no folder: weights_dir is unset and face-recognition-models is not installed)"
    raise WeightsNotFound(
        f"model weights '{filename}' not found; looked in: {where}. Fix: pip install face-recognition-models==0.3.0, "
        f"or place the file in a folder and set the config key 'weights_dir' to it"
    )


@functools.lru_cache(maxsize=None)
def weights_sha256(path: str) -> str:
    return sha256_file(path)
