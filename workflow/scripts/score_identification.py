"""Rank the unmasked gallery for every probe of one (model, dataset, variant): one matrix product."""

import logging

from maskaudit.datasets.manifest import read_manifest
from maskaudit.embed import load_cache, load_sidecar, score_provenance
from maskaudit.models import get_card
from maskaudit.progress import setup_logging
from maskaudit.scoring import identification_scores
from maskaudit.tsv import write_tsv

setup_logging(snakemake.log[0])
scores = identification_scores(
    load_cache(snakemake.input.probes),
    load_cache(snakemake.input.gallery),
    read_manifest(snakemake.input.manifest),
    snakemake.params.variant,
    get_card(snakemake.wildcards.model),
    rank_k=snakemake.params.rank_k,
)
scores = scores.assign(**score_provenance(load_sidecar(snakemake.input.probes)))  # model pipeline + deepface version
write_tsv(scores, snakemake.output.scores)
logging.info("%d probes, gallery of %d", scores.probe_id.nunique(), int(scores.gallery_size.iloc[0]))
