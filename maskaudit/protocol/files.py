"""Score files from a :class:`maskaudit.protocol.score.VariantScores` (contract: :mod:`maskaudit.protocol`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from maskaudit.protocol.fta import origins, pair_failure
from maskaudit.protocol.score import VariantScores
from maskaudit.tsv import FLOAT32_FORMAT, read_tsv

LABELS = ("identity", "gender", "race", "age")
NPZ_KEYS = (
    "identity",
    "probe_identity",
    "gallery_identity",
    "trials",
    "failures",
    "failures_system",
    "score_sum",
    "score_count",
    "threshold_name",
    "threshold_value",
    "fm_threshold",
    "fm_probe",
    "fm_ref",
    "fm_count",
    "sample_probe",
    "sample_ref",
    "sample_score",
    "sample_fraction",
    "calibration",
)


def _side(manifest: pd.DataFrame, ids, prefix: str) -> pd.DataFrame:
    m = manifest.set_index("image_id").loc[list(ids), list(LABELS)]
    m.columns = [f"{prefix}_{'subject' if c == 'identity' else c}" for c in LABELS]
    return m.reset_index(drop=True)


def mask_columns(variant: dict) -> dict:
    return {
        "probe_mask": variant["id"],
        "mask_kind": variant["kind"],
        "mask_colour": variant["colour"],
        "ref_mask": "none",
    }


def _pairs_frame(probe, gallery, scores, comparison, source, manifest, variant) -> pd.DataFrame:
    p_ids, g_ids = source.probe_ids[probe], source.gallery_ids[gallery]
    reason, side = pair_failure(source.probe_status[probe], source.gallery_status[gallery])
    scores = np.array(scores, dtype=np.float32)  # stored as computed (float32, written losslessly)
    scores[reason != ""] = np.nan
    out = pd.concat(
        [
            pd.DataFrame({"probe_id": p_ids, "ref_id": g_ids, "comparison": comparison}),
            _side(manifest, p_ids, "probe"),
            _side(manifest, g_ids, "ref"),
        ],
        axis=1,
    )
    out = out.assign(**mask_columns(variant))
    thr = np.float32(source.threshold)  # the float32 threshold of the thresholds file's `default`
    out["score"] = scores
    out["raw_score"] = source.to_raw(scores)
    out["raw_direction"] = source.raw_direction
    out["threshold"] = np.full(len(out), thr, dtype=np.float32)
    out["threshold_raw"] = source.threshold_raw
    decided = ~np.isnan(scores)
    out["decision"] = np.where(~decided, "fta", np.where(scores >= thr, "match", "non_match"))
    out.loc[~decided & (reason == ""), "decision"] = "not_compared"
    out["fta_reason"] = reason
    out["fta_origin"] = origins(reason)
    out["fta_side"] = side
    return out


def reidentification_frame(
    result: VariantScores, layout, source, manifest, variant
) -> pd.DataFrame:
    """One row per probe with its own original in the gallery (``comparison=reidentification``)."""
    probe = np.flatnonzero(layout.self_col >= 0)
    return _pairs_frame(
        probe,
        layout.self_col[probe],
        result.pairs.reid[probe],
        "reidentification",
        source,
        manifest,
        variant,
    )


def verification_frame(result: VariantScores, layout, source, manifest, variant) -> pd.DataFrame:
    """Mated pairs (``comparison=mated``) and excluded near-duplicate pairs (``near_duplicate``)."""
    pairs = result.pairs
    comparison = np.where(pairs.near_duplicate, "near_duplicate", "mated")
    return _pairs_frame(
        pairs.mated_probe, pairs.mated_gallery, pairs.mated, comparison, source, manifest, variant
    )


def identification_frame(result: VariantScores, layout, source, manifest, variant) -> pd.DataFrame:
    """One row per probe: closed-set and open-set search results by identity."""
    ids = source.probe_ids
    found = result.search
    # the search's own statuses when 1:N came from a separate search (a vendor's search answers)
    reason = np.where(found.probe_ok, "", found.probe_status).astype(object)
    closed, opened = found.closed, found.open
    ident = (
        layout.identities[layout.block_ident] if layout.block_ident.size else np.zeros(0, dtype=str)
    )

    def names(blocks):
        return [";".join(ident[b] for b in row if b >= 0) for row in blocks]

    def scores(vals):
        return [";".join(FLOAT32_FORMAT % v for v in row if np.isfinite(v)) for row in vals]

    nonmate = closed["best_nonmate_block"]
    out = pd.concat([pd.DataFrame({"probe_id": ids}), _side(manifest, ids, "probe")], axis=1)
    out = out.assign(**{k: v for k, v in mask_columns(variant).items() if k != "ref_mask"})
    out["gallery_identities"] = int(layout.block_starts.size)
    out["self_in_gallery"] = not result.self_excluded
    out["search"] = found.closed_search
    out["mates_available"] = found.mates_available
    out["unenrolled_charge"] = found.unenrolled_charge
    out["mate_rank"] = closed["mate_rank"]
    out["mate_score"] = f32(closed["mate_score"])
    out["best_nonmate_score"] = f32(closed["best_nonmate_score"])
    out["best_nonmate_subject"] = [ident[b] if b >= 0 else "" for b in nonmate]
    out["top_subjects"] = names(closed["top_blocks"])
    out["top_scores"] = scores(closed["top_scores"])
    out["open_search"] = found.open_search
    out["open_mate_rank"] = opened["mate_rank"]
    out["open_mate_score"] = f32(opened["mate_score"])
    out["open_best_nonmate_score"] = f32(opened["best_nonmate_score"])
    out["fta_reason"] = reason
    out["fta_origin"] = origins(reason)
    return out


def f32(values) -> np.ndarray:
    """Scores as the float32 numbers they were computed as (``-inf`` = no candidate stays ``-inf``)."""
    return np.asarray(values, dtype=np.float32)


def save_impostors(path, impostors: dict) -> None:
    np.savez_compressed(path, **{k: impostors[k] for k in NPZ_KEYS})


def load_impostors(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


SCORE_COLUMNS = (
    "score",
    "threshold",
    "mate_score",
    "best_nonmate_score",
    "open_mate_score",
    "open_best_nonmate_score",
)
"""float32 columns of the score files: written losslessly (``%.9g``) and read back as float32, so the
values every metric compares are exactly the ones the score pass compared."""


def read_scores(path, columns: list[str] | None = None) -> pd.DataFrame:
    """A score file; ``columns``: read only these (a figure needs three of a million-row file's thirty)."""
    return read_tsv(
        path,
        usecols=columns,
        dtype={
            **{c: np.float32 for c in SCORE_COLUMNS},
            "probe_age": str,
            "ref_age": str,
            "fta_reason": str,
            "fta_origin": str,
            "fta_side": str,
            "top_subjects": str,
            "top_scores": str,
            "best_nonmate_subject": str,
            "probe_subject": str,
            "ref_subject": str,
            "identification_source": str,
            "identification_reason": str,
            "unenrolled_charge": str,
        },
    )
