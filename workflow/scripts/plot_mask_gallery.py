"""Figure: a contact sheet of every mask variant on the dataset's first acquired faces."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_landmarks
from maskaudit.imageio import read_rgb
from maskaudit.plots import face_tile, mask_gallery, save
from maskaudit.progress import setup_logging
from maskaudit.variants import read_variant_manifest

MAX_ROWS = 8
setup_logging(snakemake.log[0])
manifest = read_manifest(snakemake.input.manifest).set_index("image_id")
landmarks = load_landmarks(snakemake.input.landmarks)
variants = [read_variant_manifest(p).set_index("image_id") for p in snakemake.input.variants]
names = [p.split("/")[-2] for p in snakemake.input.variants]
rows = [i for i in manifest.index if landmarks[i] is not None][:MAX_ROWS]
tiles = [
    [face_tile(read_rgb(manifest.path[i]), landmarks[i])]
    + [face_tile(read_rgb(v.path[i]), landmarks[i]) if v.path[i] else None for v in variants]
    for i in rows
]
save(mask_gallery(tiles, rows, ["none"] + names), snakemake.output.figure)
