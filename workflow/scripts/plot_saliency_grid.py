"""Figure: overlays of every system's map on chosen photos, one column per variant."""

from pathlib import Path

import numpy as np

from maskaudit.explain.figures import overlay_grid
from maskaudit.explain.run import load_explanations
from maskaudit.imageio import ImageReadError, read_rgb
from maskaudit.masking import read_variant_manifest
from maskaudit.plots import save
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
explanations = {
    (m, v): load_explanations(f) for (_, m, v), f in zip(p.map_keys, snakemake.input.maps)
}
# the first `shown` photos of the sample that every system mapped under every variant (else the first ones)
ids = next(iter(explanations.values()))["image_id"].tolist()
everywhere = [
    i for k, i in enumerate(ids) if all(e["status"][k] == "ok" for e in explanations.values())
]
faces = (everywhere + [i for i in ids if i not in everywhere])[: p.shown]
tables = {
    Path(t).parent.name: read_variant_manifest(t).set_index("image_id")
    for t in snakemake.input.images
}


# a photo that cannot be read shows as a black square (its status says why)
def image(variant, image_id):
    try:
        return read_rgb(tables[variant].loc[image_id, "path"])
    except ImageReadError:
        return np.zeros((8, 8, 3), np.uint8)


images = {(v, i): image(v, i) for v in tables for i in faces}
save(overlay_grid(explanations, images, faces), snakemake.output.figure)
