"""Detect each original image once: 68 landmarks, or a failure-to-acquire row with its reason."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import FaceDetector, acquisition_table, detect_images, save_landmarks
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0])
manifest = read_manifest(snakemake.input.manifest)
detector = FaceDetector(weights_dir=snakemake.params.weights_dir, **snakemake.params.detection)
logging.info("detector: %s", detector.describe())
ids = list(manifest.image_id)
detections = detect_images(list(manifest.path), ids, detector)
save_landmarks(snakemake.output.landmarks, ids, detections)
table = acquisition_table(ids, detections)
write_tsv(table, snakemake.output.acquisition)
logging.info("acquired %d of %d images; failures: %s", (table.status == "ok").sum(), len(table),
             table.status[table.status != "ok"].value_counts().to_dict())
