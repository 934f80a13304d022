"""``maskaudit mask``: put a synthetic mask on one image or on every image of a folder tree.

The command runs the workflow's own code (:func:`maskaudit.variants.mask_image`: the same geometry,
placement checks, seeds and records), finds faces with dlib HOG + 68 landmarks, and writes a manifest
(``manifest.tsv`` next to the outputs) with one row per input file and masked face: what was done,
what was skipped, and why.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def register(subparsers) -> None:
    from maskaudit.masks import COVERAGE_LEVELS, MASK_KINDS, TEXTURES

    p = subparsers.add_parser("mask", help="mask one image or a folder of images",
                              description=__doc__.split("\n\n")[0],
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("input", help="an image file (.jpg, .jpeg, .png) or a folder, walked recursively")
    p.add_argument("-o", "--output", required=True,
                   help="output file (single image) or folder (the input's structure is kept)")
    p.add_argument("--type", dest="kind", default="surgical", choices=MASK_KINDS, help="mask kind")
    p.add_argument("--color", "--colour", dest="colour", default="blue",
                   help="a palette name (blue, white, black, grey, red, green, skin_light, skin_dark) or '#RRGGBB'")
    p.add_argument("--texture", default="plain", choices=TEXTURES)
    p.add_argument("--coverage", default="high", choices=COVERAGE_LEVELS, help="nose coverage")
    p.add_argument("--shading", type=float, default=0.6, help="0 flat colour .. 1 follows the face's lighting")
    p.add_argument("--faces", default="largest", choices=("largest", "all"), help="which faces to mask")
    p.add_argument("--frame", default="full", choices=("full", "crop"),
                   help="write the whole image or a face-centred crop (the workflow's default)")
    p.add_argument("--format", default="same", choices=("same", "jpeg", "png"),
                   help="output encoding; 'same' follows the output name's suffix (JPEG quality 95, PNG level 1)")
    p.add_argument("--seed", type=int, default=0, help="master seed of the texture noise")
    p.add_argument("--upsample", type=int, default=1, help="HOG upsampling (2 finds smaller faces, ~4x slower)")
    p.add_argument("--weights-dir", default=None, help="folder holding shape_predictor_68_face_landmarks.dat")
    p.add_argument("--manifest", default=None, help="manifest path (default: OUTPUT/manifest.tsv, or next to the file)")
    p.set_defaults(func=run)


def is_image(path: Path) -> bool:
    """``.jpg``, ``.jpeg`` or ``.png`` in any case, whatever dots the name has before the suffix."""
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def plan(input_path: Path, output: Path) -> list[tuple[Path, Path, str]]:
    """(source, target, relative name) for every image to mask; folder mode keeps the tree."""
    if input_path.is_dir():
        files = sorted(p for p in input_path.rglob("*") if is_image(p))
        return [(p, output / p.relative_to(input_path), p.relative_to(input_path).as_posix()) for p in files]
    target = output if output.suffix.lower() in IMAGE_SUFFIXES else output / input_path.name
    return [(input_path, target, input_path.name)]


def run(args) -> int:
    import numpy as np
    import pandas as pd

    from maskaudit.imageio import ImageReadError, read_rgb
    from maskaudit.masks.faces import FaceFinder, select_faces
    from maskaudit.progress import progress
    from maskaudit.tsv import write_tsv
    from maskaudit.variants import (DEFAULT_STORAGE, PALETTE, crop_box, draw_point, encode_image, mask_image,
                                    resolve_variant, spec_from_point, texture_seed)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    src, out = Path(args.input), Path(args.output)
    if not src.exists():
        print(f"error: {src} does not exist")
        return 2
    if src.is_file() and not is_image(src):
        print(f"error: {src} is not a .jpg, .jpeg or .png file")
        return 2
    entry = {"kind": args.kind, "colour": args.colour, "texture": args.texture, "coverage": args.coverage,
             "shading": args.shading}
    try:
        variant = resolve_variant({"colours": PALETTE, "variants": {"cli": entry}}, "cli")
        spec_from_point(draw_point(variant, args.seed, "cli", ""))  # validates shading and friends
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    jobs = plan(src, out)
    manifest = Path(args.manifest) if args.manifest else (
        out / "manifest.tsv" if src.is_dir() or out.suffix.lower() not in IMAGE_SUFFIXES
        else out.with_name(out.stem + ".manifest.tsv"))
    finder = FaceFinder(upsample=args.upsample, weights_dir=args.weights_dir)
    rows = []
    for source, target, name in progress(jobs, desc="mask", unit="img"):
        base = {"input": str(source), "output": "", "face": 0, "n_faces": 0, "status": "ok", "detail": "", "seed": ""}
        try:
            rgb = read_rgb(source)
        except ImageReadError as exc:
            rows.append({**base, "status": exc.reason, "detail": exc.detail})
            continue
        faces = finder.find(rgb)
        if not faces:
            rows.append({**base, "status": "no_face", "detail": "HOG found no face; nothing written"})
            continue
        point = draw_point(variant, args.seed, "cli", name)
        fmt = args.format if args.format != "same" else ("png" if target.suffix.lower() == ".png" else "jpeg")
        storage = {**DEFAULT_STORAGE, "frame": "full", "format": fmt}
        image, face_rows = rgb, []
        chosen = select_faces(faces, args.faces)
        for k, face in enumerate(chosen, 1):
            seed = texture_seed(args.seed, "cli", f"{name}#{k}", point)
            image, rec = mask_image(image, face.landmarks, point, np.random.default_rng(seed), storage)
            face_rows.append({**base, "face": k, "n_faces": len(faces), **rec, "seed": str(seed),
                              "detail": rec["detail"] or (f"{len(faces) - len(chosen)} smaller face(s) left unmasked"
                                                         if len(faces) > len(chosen) else "")})
        if args.frame == "crop":  # the workflow's face-centred crop around the (first) masked face
            x0, y0, x1, y1 = crop_box(chosen[0].landmarks, rgb.shape[1], rgb.shape[0], DEFAULT_STORAGE["crop_margin"])
            image = image[y0:y1, x0:x1]
        if fmt == "jpeg" and target.suffix.lower() == ".png":
            target = target.with_suffix(".jpg")
        elif fmt == "png" and target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        encode_image(target, image, storage)
        rows.extend({**r, "output": str(target)} for r in face_rows)
    table = pd.DataFrame(rows)
    if table.empty:
        print(f"no .jpg, .jpeg or .png images under {src}")
        return 1
    manifest.parent.mkdir(parents=True, exist_ok=True)
    write_tsv(table.assign(kind=args.kind, colour=variant["hex"], texture=args.texture, coverage=args.coverage),
              manifest)
    done = table[table.output != ""].input.nunique()
    counts = table.status.value_counts().to_dict()
    print(f"masked {done} of {len(jobs)} images; statuses {counts}; manifest {manifest}")
    return 0
