"""Find or fetch the files of one deepface detector shared by end_to_end models (locate_faces)."""

import json
import logging

from maskaudit.models.files import detector_files, provision_files
from maskaudit.progress import setup_logging
from maskaudit.weights import WeightsNotFound

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
detector = p.locator["detector"]
try:
    files = provision_files(
        detector_files(detector),
        f"detector {detector}",
        weights_dir=p.weights_dir,
        fetch_dir=p.fetch_dir,
        mirror=p.mirror,
        download=p.download,
    )
except WeightsNotFound as exc:
    logging.error("%s", exc)
    raise
record = {"detector": detector, "files": {k: v["sha256"] for k, v in files.items()}}
with open(snakemake.output.files, "w") as fh:
    json.dump(record, fh, indent=2, sort_keys=True)
    fh.write("\n")
logging.info("files of detector %s ready: %s", detector, ", ".join(files) or "none needed")
