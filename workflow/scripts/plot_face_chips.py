"""Figure: aligned face chips (dlib alignment from the 68 landmarks) or failure reasons, for a seeded
sample of at most `limit` images so the sheet stays readable at study scale."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import face_chip, load_landmarks, load_statuses
from maskaudit.imageio import read_rgb
from maskaudit.plots import face_chips, save, sheet_sample
from maskaudit.progress import setup_logging
from maskaudit.seeding import rng_for

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
manifest = read_manifest(snakemake.input.manifest)
landmarks = load_landmarks(snakemake.input.landmarks)
statuses = [load_statuses(snakemake.input.landmarks)[i] for i in manifest.image_id]
rows = manifest.iloc[
    sheet_sample(
        statuses,
        snakemake.params.limit,
        rng_for(snakemake.params.seed, "face_chips", snakemake.wildcards.dataset),
    )
]
chips = [
    None if landmarks[i] is None else face_chip(read_rgb(p), landmarks[i])
    for i, p in zip(rows.image_id, rows.path)
]
failed = sum(s != "ok" for s in statuses)
title = f"{len(rows)} of {len(manifest)} images (seeded sample; {failed} failed detection in all)"
save(
    face_chips(chips, list(rows.image_id), [statuses[i] for i in rows.index], title=title),
    snakemake.output.figure,
)
