"""Find or fetch every weight file one model needs, before any of its embedding jobs runs."""

import json
import logging

from maskaudit.models import get_card
from maskaudit.models.files import provision
from maskaudit.progress import setup_logging
from maskaudit.weights import WeightsNotFound

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
p = snakemake.params
card = get_card(snakemake.wildcards.model, p.overrides)
try:
    files = provision(
        card,
        p.alignment,
        weights_dir=p.weights_dir,
        fetch_dir=p.fetch_dir,
        mirror=p.mirror,
        download=p.download,
    )
except WeightsNotFound as exc:
    logging.error("%s", exc)
    raise
record = {
    "model": card.id,
    "alignment": p.alignment,
    "files": {k: v["sha256"] for k, v in files.items()},
}
with open(snakemake.output.files, "w") as fh:
    json.dump(record, fh, indent=2, sort_keys=True)
    fh.write("\n")
logging.info("weights of %s ready: %s", card.id, ", ".join(files))
