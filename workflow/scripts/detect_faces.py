"""Detect one shard of a dataset's original images: 68 landmarks, or a failure-to-acquire row with its reason."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import (
    FaceDetector,
    acquisition_table,
    detect_images,
    save_landmarks,
    shard_rows,
)
from maskaudit.progress import setup_logging
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
index, count = int(snakemake.wildcards.shard), int(snakemake.wildcards.shards)
manifest = read_manifest(snakemake.input.manifest)
shard = manifest.iloc[shard_rows(len(manifest), index, count)]
logging.info(
    "shard %d of %d: %d of the manifest's %d images", index, count, len(shard), len(manifest)
)
detector = FaceDetector(weights_dir=snakemake.params.weights_dir, **snakemake.params.detection)
logging.info("detector: %s", detector.describe())
ids = list(shard.image_id)
detections = detect_images(list(shard.path), ids, detector)
save_landmarks(snakemake.output.landmarks, ids, detections)
table = acquisition_table(ids, detections)
write_tsv(table, snakemake.output.acquisition)
logging.info(
    "acquired %d of %d images; failures: %s",
    (table.status == "ok").sum(),
    len(table),
    table.status[table.status != "ok"].value_counts().to_dict(),
)
