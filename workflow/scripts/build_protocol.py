"""The protocol's image table: near-duplicates within and across identities (aligned-face correlation), the
open-set split and the calibration split, plus the duplicate screen's summary."""

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_landmarks
from maskaudit.progress import setup_logging
from maskaudit.protocol.stage import build_protocol

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
params = snakemake.params
build_protocol(
    read_manifest(snakemake.input.manifest),
    load_landmarks(snakemake.input.landmarks),
    snakemake.output.images,
    snakemake.output.near_duplicates,
    snakemake.output.duplicates,
    min_correlation=params.min_correlation,
    min_overlap=params.min_overlap,
    holdout=params.holdout,
    seed=params.seed,
    dataset=snakemake.wildcards.dataset,
    max_within_share=params.max_within_share,
    calibration_share=params.calibration_share,
)
