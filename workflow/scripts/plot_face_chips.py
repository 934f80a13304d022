"""Figure: every image's aligned face chip (dlib alignment from its 68 landmarks) or failure reason."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import face_chip, load_landmarks, load_statuses
from maskaudit.imageio import read_rgb
from maskaudit.plots import face_chips, save
from maskaudit.progress import setup_logging

setup_logging(snakemake.log[0])
manifest = read_manifest(snakemake.input.manifest)
landmarks = load_landmarks(snakemake.input.landmarks)
statuses = load_statuses(snakemake.input.landmarks)
chips = [None if landmarks[i] is None else face_chip(read_rgb(p), landmarks[i])
         for i, p in zip(manifest.image_id, manifest.path)]
save(face_chips(chips, list(manifest.image_id), [statuses[i] for i in manifest.image_id]), snakemake.output.figure)
