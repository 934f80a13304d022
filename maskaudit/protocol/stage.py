"""The protocol's workflow steps, file in -> file out (the rule scripts only pass paths and params)."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

from maskaudit.embed import load_sidecar, score_provenance
from maskaudit.protocol import files
from maskaudit.protocol.images import protocol_table, read_protocol_table
from maskaudit.protocol.layout import build_layout
from maskaudit.protocol.score import ScoreOptions, VariantScores, score_variant
from maskaudit.protocol.sources import open_source
from maskaudit.protocol.thresholds import (
    REFERENCE,
    REFERENCE_SPLIT,
    baseline_thresholds,
    tail_size,
    threshold_map,
)
from maskaudit.tsv import write_tsv

log = logging.getLogger(__name__)


def build_protocol(
    manifest,
    landmarks: dict,
    out_images,
    out_pairs,
    out_summary,
    *,
    min_correlation: float,
    min_overlap: float,
    holdout: float,
    seed: int,
    dataset: str,
    max_within_share: float = 0.5,
    calibration_share: float = 0.0,
) -> None:
    """``landmarks``: image id -> 68 points or None (:func:`maskaudit.detect.load_landmarks`)."""
    from maskaudit.detect import face_chip
    from maskaudit.imageio import read_rgb
    from maskaudit.protocol.near_duplicates import face_signature

    signatures = {}
    for image_id, path in zip(manifest.image_id, manifest.path):
        if landmarks.get(image_id) is None:
            continue
        rgb = read_rgb(path)
        valid = face_chip(np.full_like(rgb, 255), landmarks[image_id])[..., 0] > 128
        signatures[image_id] = face_signature(face_chip(rgb, landmarks[image_id]), valid)
    table, pairs, summary = protocol_table(
        manifest,
        signatures,
        min_correlation=min_correlation,
        min_overlap=min_overlap,
        holdout=holdout,
        seed=seed,
        dataset=dataset,
        max_within_share=max_within_share,
        calibration_share=calibration_share,
    )
    write_tsv(table, out_images)
    write_tsv(pairs, out_pairs)
    write_tsv(summary, out_summary)
    row = summary.iloc[0]
    log.info(
        "%d near-duplicate pair(s) within identities (%.1f%% of %d mated pairs), %d across identities "
        "(left out of the impostors); %d identities held out of the open-set gallery; %d calibration "
        "identities",
        row.within_pairs,
        100 * row.within_share if row.mated_pairs else 0,
        row.mated_pairs,
        row.across_pairs,
        table[table.open_set == "held_out"].identity.nunique(),
        table[table.calibration == "calibration"].identity.nunique(),
    )
    if row.within_share_warning:
        log.warning(
            "%s: the within-identity near-duplicate cut-off (correlation >= %g) removes %.0f%% of the "
            "mated pairs, above protocol.near_duplicate_max_share = %g: on a same-session set it may "
            "take distinct photos for one picture; check results/protocol/%s/near_duplicates.tsv",
            dataset,
            min_correlation,
            100 * row.within_share,
            max_within_share,
            dataset,
        )


def _setup(inputs: dict, card, manifest, protocol_path, baseline: bool):
    source = open_source(inputs, card)
    layout = build_layout(
        source.probe_ids,
        source.probe_status,
        source.gallery_ids,
        source.gallery_status,
        manifest,
        baseline=baseline,
    )
    table = read_protocol_table(protocol_path)
    dup = _split_map(table, "near_duplicates")
    held = frozenset(table[table.open_set == "held_out"].identity.astype(str))
    calib = table[table.calibration == "calibration"] if "calibration" in table else table.iloc[:0]
    roles = {
        "held_out": held,
        "cross_duplicates": _split_map(table, "duplicates_across"),
        "calibration": frozenset(calib.identity.astype(str)),
    }
    return source, layout, dup, roles


def _split_map(table, column: str) -> dict[str, set[str]]:
    """image id -> the ``;``-joined ids of ``column`` (empty when the table has no such column)."""
    if column not in table:
        return {}
    return {
        image: set(near.split(";"))
        for image, near in zip(table.image_id, table[column].fillna(""))
        if near
    }


def _options(protocol: dict, roles: dict, seed_parts, thresholds=None, tail_k=0) -> ScoreOptions:
    return ScoreOptions(
        include_self=bool(protocol["include_self"]),
        rank_k=int(protocol["rank_k"]),
        chunk=int(protocol["chunk_size"]),
        impostor_sample=int(protocol["impostor_sample"]),
        sample_seed=tuple(seed_parts),
        thresholds=thresholds or {},
        tail_k=tail_k,
        **roles,
    )


def fix_thresholds(
    inputs: dict,
    card,
    manifest,
    protocol_path,
    out_path,
    *,
    protocol: dict,
    seed: int,
    dataset: str,
    model: str,
) -> dict:
    """Thresholds of one system on one dataset from its unmasked baseline (variant ``none``)."""
    source, layout, dup, roles = _setup(inputs, card, manifest, protocol_path, baseline=True)
    n_ok = int(layout.probe_ok.sum())
    k = tail_size(protocol["fmr_targets"], n_ok * n_ok)
    opts = _options(protocol, roles, (seed, dataset, model, "none"), tail_k=k)
    result = score_variant(source, layout, dup, opts)
    reference = REFERENCE_SPLIT.format(n=len(opts.calibration)) if opts.calibration else REFERENCE
    out = baseline_thresholds(
        result,
        source,
        protocol["fmr_targets"],
        protocol["fpir_targets"],
        layout.probe_ok,
        reference=reference,
    )
    out.update(model=model, dataset=dataset)
    Path(out_path).write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    for r in out["verification"] + out["identification"]:
        log.info("%s: %s%s", r["name"], r["similarity"], f" ({r['reason']})" if r["reason"] else "")
    return out


def read_thresholds(path) -> dict:
    return json.loads(Path(path).read_text())


def system_provenance(inputs: dict) -> dict:
    """Constant score-file columns naming the system's pipeline and software (from the probe side's sidecar)."""
    if "comparisons" in inputs:
        meta = json.loads(Path(inputs["comparisons_sidecar"]).read_text())
        return {
            "system_kind": "comparison",
            "model_version": str(meta.get("model_version", "")),
            "threshold_source": str(meta.get("threshold_source", "")),
        }
    return {"system_kind": "embedding", **score_provenance(load_sidecar(inputs["probes"]))}


def identification_columns(result: VariantScores) -> dict:
    """Where a comparison-only system's 1:N came from: ``identification_source`` is ``similarity`` (the
    full 1:1 matrix), ``search_similarity`` (the vendor's own search) or ``not_run``, and
    ``identification_reason`` says why it was not run (empty otherwise)."""
    found = result.search
    return {
        "identification_source": found.mode,
        "identification_reason": found.reason if found.mode == "not_run" else "",
    }


def score(
    inputs: dict,
    card,
    manifest,
    protocol_path,
    thresholds_path,
    variant: dict,
    outputs: dict,
    *,
    protocol: dict,
    seed: int,
    dataset: str,
    model: str,
) -> None:
    """Write the four score files of one (system, dataset, variant)."""
    thresholds = read_thresholds(thresholds_path)
    baseline = variant["id"] == "none"
    source, layout, dup, roles = _setup(inputs, card, manifest, protocol_path, baseline=baseline)
    ver = threshold_map(thresholds)
    opts = _options(protocol, roles, (seed, dataset, model, variant["id"]), thresholds=ver)
    result = score_variant(source, layout, dup, opts)
    prov = system_provenance(inputs)
    for name, frame in (
        ("reidentification", files.reidentification_frame),
        ("verification", files.verification_frame),
        ("identification", files.identification_frame),
    ):
        extra = (
            identification_columns(result)
            if name == "identification" and "comparisons" in inputs
            else {}
        )
        write_tsv(
            frame(result, layout, source, manifest, variant).assign(**prov, **extra), outputs[name]
        )
    if result.search.mode == "not_run":
        log.warning(
            "1:N not run for %s: %s; identification is reported as not run",
            model,
            result.search.reason,
        )
    files.save_impostors(outputs["impostors"], result.impostors)
    trials = int(result.impostors["trials"].sum())
    near = result.pairs.near_duplicate
    log.info(
        "%s: %d probes, %d mated pairs (%d near-duplicate pairs excluded), %d impostor comparisons",
        variant["id"],
        layout.probe_ident.size,
        int((~near).sum()),
        int(near.sum()),
        trials,
    )
    unsupported = [k for k, v in ver.items() if not math.isfinite(v)]
    if unsupported:
        log.info("unsupported thresholds (see thresholds table): %s", unsupported)


def load_scores(reid, verification, identification, impostors) -> dict:
    return {
        "reid": files.read_scores(reid),
        "verification": files.read_scores(verification),
        "identification": files.read_scores(identification),
        "impostors": files.load_impostors(impostors),
    }


def thresholds_rows(thresholds: dict) -> list[dict]:
    """Flat table rows of a thresholds file."""
    rows = []
    for section in ("verification", "identification"):
        for r in thresholds[section]:
            rows.append(
                {
                    "model": thresholds["model"],
                    "dataset": thresholds["dataset"],
                    "comparison": section,
                    "threshold": r["name"],
                    "target": r["target"],
                    "similarity": r["similarity"],
                    "similarity_raw": r["similarity_raw"],
                    "raw_direction": thresholds["raw_direction"],
                    "n_reference": r["n"],
                    "n_required": r["n_required"],
                    "realised": r["realised"],
                    "supported": r["supported"],
                    "reason": r["reason"],
                }
            )
    return rows
