"""The survey's workflow steps, file in -> file out (the rule scripts only pass paths and params)."""

from __future__ import annotations

import logging
from pathlib import Path

from maskaudit.datasets.manifest import read_manifest, resolve_paths
from maskaudit.protocol.images import read_protocol_table
from maskaudit.survey.bundle import write_bundle
from maskaudit.survey.machines import load_thresholds, score_trials
from maskaudit.survey.trials import Design, build_trials, check_trial
from maskaudit.tsv import read_tsv, write_tsv

log = logging.getLogger(__name__)


def build_survey(
    manifest, protocol, masked: dict[str, str], outputs: dict, *, design: Design, dataset: str
) -> None:
    """``masked``: variant -> ``results/masked/<dataset>/<variant>/manifest.tsv`` (``none`` included);
    ``outputs``: ``key``, ``design`` (TSV files) and ``bundle`` (folder)."""
    tables, paths = {}, {}
    for variant, path in masked.items():
        table = read_tsv(path, dtype=str)
        tables[variant] = table
        paths[variant] = dict(
            zip(table.image_id, map(Path, resolve_paths(table.path, Path(path).parent)))
        )
    key, plan = build_trials(
        read_manifest(manifest), read_protocol_table(protocol), tables, design, dataset
    )
    broken = {r.trial_id: check_trial(r) for r in key.itertuples() if check_trial(r)}
    if broken:
        raise RuntimeError(f"trials break the protocol (a bug): {broken}")
    for r in plan[plan.built < plan.requested].itertuples():
        log.warning(
            "%s/%s %s %s: %d of %d trials (%d eligible probes)",
            r.gender,
            r.race,
            r.variant,
            r.kind,
            r.built,
            r.requested,
            r.eligible,
        )
    doc = write_bundle(
        key,
        paths,
        Path(outputs["bundle"]),
        seed=design.seed,
        dataset=dataset,
        candidates=design.candidates,
    )
    write_tsv(key.assign(build=doc["build"]), outputs["key"])
    write_tsv(plan, outputs["design"])
    log.info("%d trials (%s), build %s", len(key), key.kind.value_counts().to_dict(), doc["build"])


def score_survey(
    key,
    inputs_by_variant: dict[str, dict],
    card,
    thresholds,
    out,
    *,
    threshold_name: str,
    system: str,
) -> None:
    table = score_trials(
        read_tsv(key, dtype={"answer": int}),
        inputs_by_variant,
        card,
        load_thresholds(thresholds),
        threshold_name,
        system,
    )
    write_tsv(table, out)
    log.info(
        "%s answered %d trials; %d without an answer",
        system,
        len(table),
        int((table.choice == "").sum()),
    )
