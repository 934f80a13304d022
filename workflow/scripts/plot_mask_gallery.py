"""Figure: every catalogue mask on one face, a yaw strip over the dataset, and the stored variants."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_landmarks
from maskaudit.imageio import read_rgb
from maskaudit.masking import read_variant_manifest, stored_landmarks
from maskaudit.masks.geometry import estimate_yaw
from maskaudit.plots import save
from maskaudit.plots.mask_gallery import catalogue_tiles, face_tile, gallery_figure, yaw_strip
from maskaudit.progress import setup_logging

MAX_FACES, MAX_VARIANT_ROWS = 16, 2
setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
paths = read_manifest(snakemake.input.manifest).set_index("image_id").path
landmarks = load_landmarks(snakemake.input.landmarks)
faces = [(i, read_rgb(paths[i]), landmarks[i]) for i in paths.index if landmarks[i] is not None][
    :MAX_FACES
]
frontal = min(faces, key=lambda f: abs(estimate_yaw(f[2])))
sections = [
    (f"Catalogue (on {frontal[0]})", *catalogue_tiles(frontal[1], frontal[2])),
    ("Yaw strip (faces ordered by estimated yaw)", *yaw_strip(faces)),
]
tables = {
    p.split("/")[-2]: read_variant_manifest(p).set_index("image_id")
    for p in snakemake.input.variants
}
marks = {v: stored_landmarks(t.reset_index(), landmarks) for v, t in tables.items()}


def stored(v, i):
    t = tables[v]
    return face_tile(read_rgb(t.path[i]), marks[v][i]) if t.path[i] else t.status[i]


for image_id in [i for i, _, _ in faces][:MAX_VARIANT_ROWS]:
    sections.append(
        (
            f"Stored variants of {image_id} (crops as embedded)",
            [stored(v, image_id) for v in tables],
            [
                v if tables[v].status[image_id] == "ok" else f"{v}\n{tables[v].status[image_id]}"
                for v in tables
            ],
        )
    )
failed = [(v, i) for v, t in tables.items() for i in t.index if t.status[i].startswith("mask_")][:8]
if failed:
    sections.append(
        (
            "Counted mask failures (kept for inspection)",
            [stored(v, i) for v, i in failed],
            [f"{v}\n{i}\n{tables[v].status[i]}" for v, i in failed],
        )
    )
save(gallery_figure(sections), snakemake.output.figure)
