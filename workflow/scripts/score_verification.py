"""Score the 1:1 pairs of one (model, dataset, variant) against the unmasked references."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.embed import load_cache, load_sidecar, score_provenance
from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.scoring import verification_scores
from maskaudit.tsv import read_tsv, write_tsv

setup_logging(snakemake.log[0])
scores = verification_scores(
    read_tsv(snakemake.input.pairs),
    load_cache(snakemake.input.probes),
    load_cache(snakemake.input.references),
    read_manifest(snakemake.input.manifest),
    snakemake.params.variant,
    get_card(snakemake.wildcards.model),
)
scores = scores.assign(**score_provenance(load_sidecar(snakemake.input.probes)))  # model pipeline + deepface version
write_tsv(scores, snakemake.output.scores)
logging.info("decisions: %s", scores.decision.value_counts().to_dict())
