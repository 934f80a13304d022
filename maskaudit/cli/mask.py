"""``maskaudit mask``: put a synthetic mask on one image or on every image of a folder tree.

The command runs the workflow's own code (:func:`maskaudit.masking.mask_image`: the same geometry,
placement checks, seeds and records), finds faces with dlib HOG + 68 landmarks, and writes a manifest
(``manifest.tsv`` next to the outputs) with one row per input file and masked face: what was done,
what was skipped, and why.

It never writes over its input: an output equal to the input or inside the input folder is refused
unless ``--overwrite-input`` is given (and the output folder is then never read back as input). A
file that cannot be written is a ``write_error`` row; the manifest is written, complete, even when
the batch stops early (files not reached are ``not_processed`` rows). Several types and colours
(``--type surgical,n95 --color blue,white``) are one pass: each face is found once and every
combination is rendered into ``OUTPUT/<kind>-<colour>/``. Type names are case-insensitive.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def kinds_arg(value: str) -> list[str]:
    """``--type``: one kind or a comma-separated list, in any case (``N95``, ``surgical,KN95``)."""
    from maskaudit.masks import MASK_KINDS

    kinds = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in kinds if v not in MASK_KINDS]
    if not kinds or bad:
        raise argparse.ArgumentTypeError(
            f"invalid mask type {', '.join(bad) or repr(value)}; "
            f"choose from {', '.join(MASK_KINDS)} (any case, comma-separated)"
        )
    return list(dict.fromkeys(kinds))


def upsample_arg(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {value!r}")
    return n


def register(subparsers) -> None:
    from maskaudit.masks import COVERAGE_LEVELS, MASK_KINDS, TEXTURES

    p = subparsers.add_parser(
        "mask",
        help="mask one image or a folder of images",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "input", help="an image file (.jpg, .jpeg, .png) or a folder, walked recursively"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file (single image) or folder (the input's structure is kept)",
    )
    p.add_argument(
        "--type",
        dest="kinds",
        default=["surgical"],
        type=kinds_arg,
        metavar="TYPE[,TYPE...]",
        help=f"mask kind(s), any case: {', '.join(MASK_KINDS)}; several are rendered in one pass",
    )
    p.add_argument(
        "--color",
        "--colour",
        dest="colour",
        default="blue",
        help="a palette name (blue, white, black, grey, red, green, skin_light, skin_dark) or '#RRGGBB'; "
        "several, comma-separated, make a grid with the types",
    )
    p.add_argument("--texture", default="plain", choices=TEXTURES)
    p.add_argument("--coverage", default="high", choices=COVERAGE_LEVELS, help="nose coverage")
    p.add_argument(
        "--shading", type=float, default=0.6, help="0 flat colour .. 1 follows the face's lighting"
    )
    p.add_argument(
        "--faces", default="largest", choices=("largest", "all"), help="which faces to mask"
    )
    p.add_argument(
        "--frame",
        default="full",
        choices=("full", "crop"),
        help="write the whole image or a face-centred crop (the workflow's default)",
    )
    p.add_argument(
        "--format",
        default="same",
        choices=("same", "jpeg", "png"),
        help="output encoding; 'same' follows the output name's suffix (JPEG quality 95, PNG level 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="master seed of the texture noise")
    p.add_argument(
        "--upsample",
        type=upsample_arg,
        default=1,
        help="HOG upsampling, >= 0 (2 finds smaller faces, ~4x slower)",
    )
    p.add_argument(
        "--weights-dir", default=None, help="folder holding shape_predictor_68_face_landmarks.dat"
    )
    p.add_argument(
        "--manifest",
        default=None,
        help="manifest path (default: OUTPUT/manifest.tsv, or next to the file)",
    )
    p.add_argument(
        "--overwrite-input",
        action="store_true",
        help="allow an output equal to or inside the input (originals may be overwritten)",
    )
    p.set_defaults(func=run)


def is_image(path: Path) -> bool:
    """``.jpg``, ``.jpeg`` or ``.png`` in any case, whatever dots the name has before the suffix."""
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


def plan(
    input_path: Path, output: Path, broken: list | None = None
) -> list[tuple[Path, Path, str]]:
    """(source, target, relative name) for every image to mask; folder mode keeps the tree and never
    walks into ``output``. Image-named entries that cannot be read as files (a symlink loop, a
    dangling link) are appended to ``broken`` as (path, reason)."""
    if input_path.is_dir():
        # an output folder inside the input is never read as input (in place, output == input, is)
        nested = output.exists() and _inside(output, input_path) and not _inside(input_path, output)
        files = []
        for p in sorted(input_path.rglob("*")):
            if p.suffix.lower() not in IMAGE_SUFFIXES or (nested and _inside(p.parent, output)):
                continue
            if is_image(p):
                files.append(p)
            elif p.is_symlink() and broken is not None:
                try:
                    os.stat(p)
                    reason = "not a regular file"
                except OSError as exc:
                    reason = (
                        "symlink loop" if exc.errno == 40 else f"dangling link ({exc.strerror})"
                    )
                broken.append((p, reason))
        return [
            (p, output / p.relative_to(input_path), p.relative_to(input_path).as_posix())
            for p in files
        ]
    target = output if output.suffix.lower() in IMAGE_SUFFIXES else output / input_path.name
    return [(input_path, target, input_path.name)]


def _overlap(src: Path, out: Path) -> str | None:
    """Why writing to ``out`` would touch the input ``src``, or ``None``."""
    if src.is_dir() and _inside(out, src):
        return (
            f"the output {out} is the input folder"
            if _inside(src, out)
            else f"the output {out} is inside the input folder {src} (the next run would read the masks as input)"
        )
    if src.is_file() and (
        os.path.realpath(out) == os.path.realpath(src)
        or (
            out.suffix.lower() not in IMAGE_SUFFIXES
            and os.path.realpath(out / src.name) == os.path.realpath(src)
        )
    ):
        return f"the output would overwrite the input {src}"
    return None


def _writable(folder: Path) -> str | None:
    """Why nothing can be written in ``folder`` (created if missing), or ``None``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".maskaudit-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"{exc.strerror or exc} ({folder})"
    return None


def run(args) -> int:
    import itertools

    import numpy as np
    import pandas as pd

    from maskaudit.imageio import try_read_rgb
    from maskaudit.masking import (
        DEFAULT_STORAGE,
        PALETTE,
        crop_box,
        draw_point,
        encode_image,
        mask_image,
        resolve_variant,
        spec_from_point,
        texture_seed,
    )
    from maskaudit.masks.faces import FaceFinder, select_faces
    from maskaudit.progress import progress
    from maskaudit.tsv import write_tsv

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    src, out = Path(args.input), Path(args.output)
    if not src.exists():
        print(f"error: {src} does not exist")
        return 2
    if src.is_file() and not is_image(src):
        print(f"error: {src} is not a .jpg, .jpeg or .png file")
        return 2
    colours = [c.strip() for c in args.colour.split(",") if c.strip()] or [args.colour]
    variants = {}
    try:
        for kind, colour in itertools.product(args.kinds, colours):
            entry = {
                "kind": kind,
                "colour": colour,
                "texture": args.texture,
                "coverage": args.coverage,
                "shading": args.shading,
            }
            variant = resolve_variant({"colours": PALETTE, "variants": {"cli": entry}}, "cli")
            # validates shading and friends
            spec_from_point(draw_point(variant, args.seed, "cli", ""))
            variants[f"{kind}-{colour.lstrip('#').lower()}"] = variant
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    several = len(variants) > 1
    if several and src.is_file() and out.suffix.lower() in IMAGE_SUFFIXES:
        print(
            f"error: several types or colours need an output folder (OUTPUT/<type>-<colour>/), not the file {out}"
        )
        return 2
    overlap = _overlap(src, out)
    if overlap and not args.overwrite_input:
        print(
            f"error: {overlap}. Nothing was written. Fix: choose an output outside {src}, or pass "
            "--overwrite-input if you mean it (originals may be overwritten)"
        )
        return 2
    broken: list = []
    jobs = plan(src, out, broken)
    manifest = (
        Path(args.manifest)
        if args.manifest
        else (
            out / "manifest.tsv"
            if src.is_dir() or out.suffix.lower() not in IMAGE_SUFFIXES
            else out.with_name(out.stem + ".manifest.tsv")
        )
    )
    problem = _writable(manifest.parent)
    if problem:
        print(
            f"error: cannot write the manifest {manifest}: {problem}. Nothing was done. Fix: make the folder "
            "writable, or choose another --output or --manifest"
        )
        return 2
    finder = FaceFinder(upsample=args.upsample, weights_dir=args.weights_dir)
    rows = [
        {
            "input": str(p),
            "output": "",
            "face": 0,
            "n_faces": 0,
            "status": "unreadable",
            "detail": reason,
            "seed": "",
        }
        for p, reason in broken
    ]
    done, stopped = 0, None
    try:
        for source, target0, name in progress(jobs, desc="mask", unit="img"):
            base = {
                "input": str(source),
                "output": "",
                "face": 0,
                "n_faces": 0,
                "status": "ok",
                "detail": "",
                "seed": "",
            }
            rgb, failed = try_read_rgb(source)
            if failed:
                rows.append({**base, "status": failed.reason, "detail": failed.detail})
                done += 1
                continue
            faces = finder.find(rgb)
            if not faces:
                rows.append(
                    {**base, "status": "no_face", "detail": "HOG found no face; nothing written"}
                )
                done += 1
                continue
            chosen = select_faces(faces, args.faces)
            for vname, variant in variants.items():
                target = (
                    out / vname / Path(name)
                    if several and src.is_dir()
                    else out / vname / src.name
                    if several
                    else target0
                )
                point = draw_point(variant, args.seed, "cli", name)
                fmt = (
                    args.format
                    if args.format != "same"
                    else ("png" if target.suffix.lower() == ".png" else "jpeg")
                )
                storage = {**DEFAULT_STORAGE, "frame": "full", "format": fmt}
                image, face_rows = rgb, []
                described = {
                    "kind": point["kind"],
                    "colour": point["hex"],
                    "texture": args.texture,
                    "coverage": args.coverage,
                }
                for k, face in enumerate(chosen, 1):
                    seed = texture_seed(args.seed, "cli", f"{name}#{k}", point)
                    image, rec = mask_image(
                        image, face.landmarks, point, np.random.default_rng(seed), storage
                    )
                    face_rows.append(
                        {
                            **base,
                            "face": k,
                            "n_faces": len(faces),
                            **rec,
                            "seed": str(seed),
                            "detail": rec["detail"]
                            or (
                                f"{len(faces) - len(chosen)} smaller face(s) left unmasked"
                                if len(faces) > len(chosen)
                                else ""
                            ),
                        }
                    )
                # the workflow's face-centred crop around the (first) masked face
                if args.frame == "crop":
                    x0, y0, x1, y1 = crop_box(
                        chosen[0].landmarks,
                        rgb.shape[1],
                        rgb.shape[0],
                        DEFAULT_STORAGE["crop_margin"],
                    )
                    image = image[y0:y1, x0:x1]
                if fmt == "jpeg" and target.suffix.lower() == ".png":
                    target = target.with_suffix(".jpg")
                elif fmt == "png" and target.suffix.lower() != ".png":
                    target = target.with_suffix(".png")
                try:
                    encode_image(target, image, storage)
                except (
                    OSError
                ) as exc:  # a read-only subfolder, a full disk: a row, never a lost manifest
                    try:
                        if target.is_file():
                            target.unlink()  # a half-written image is never left under the final name
                    except OSError:
                        pass
                    rows.extend(
                        {
                            **r,
                            **described,
                            "status": "write_error",
                            "output": "",
                            "detail": f"could not write {target}: {exc.strerror or exc}",
                        }
                        for r in face_rows
                    )
                    continue
                rows.extend({**r, **described, "output": str(target)} for r in face_rows)
            done += 1
    except BaseException as exc:  # Ctrl-C or a crash: record what was done, then stop as asked
        stopped = exc
    rows += (
        [
            {
                "input": str(s),
                "output": "",
                "face": 0,
                "n_faces": 0,
                "status": "not_processed",
                "detail": f"the batch stopped before this file ({type(stopped).__name__})",
                "seed": "",
            }
            for s, _, _ in jobs[done:]
        ]
        if stopped is not None
        else []
    )
    table = pd.DataFrame(rows)
    if table.empty:
        print(f"no .jpg, .jpeg or .png images under {src}")
        return 1
    if len(variants) == 1:  # rows without a render (unreadable, no_face) still say what was asked
        only = next(iter(variants.values()))
        fill = {
            "kind": only["kind"],
            "colour": only["hex"],
            "texture": args.texture,
            "coverage": args.coverage,
        }
    else:
        fill = {
            "kind": ",".join(v["kind"] for v in variants.values()),
            "colour": ",".join(v["hex"] for v in variants.values()),
            "texture": args.texture,
            "coverage": args.coverage,
        }
    for column, value in fill.items():
        table[column] = table[column].fillna(value) if column in table else value
    tmp = manifest.with_name(manifest.name + ".part")
    write_tsv(table, tmp)
    tmp.replace(manifest)  # the manifest is complete or absent, never half-written
    if stopped is not None:
        print(f"stopped after {done} of {len(jobs)} images; manifest {manifest} lists every file")
        raise stopped
    written = table[table.output != ""].input.nunique()
    counts = table.status.value_counts().to_dict()
    print(
        f"masked {written} of {len(jobs) + len(broken)} images; statuses {counts}; manifest {manifest}"
    )
    return 1 if "write_error" in counts else 0
