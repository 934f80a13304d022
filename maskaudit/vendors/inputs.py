"""The tables one vendor job reads: probes (the variant's images) and gallery (the unmasked images).

The paths come from the workflow (workflow/rules/common.smk: ``vendor_job_inputs``), as the job's
inputs or, for ``maskaudit vendors plan``, as the table rule ``list_vendor_inputs`` writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from maskaudit.datasets.manifest import read_manifest
from maskaudit.detect import load_statuses
from maskaudit.masking import read_variant_manifest
from maskaudit.tsv import read_tsv, write_tsv

COLUMNS = ["image_id", "path", "status"]
JOB_COLUMNS = [
    "dataset",
    "variant",
    "manifest",
    "landmarks",
    "images",
    "explain_baseline",
    "explain_images",
]
TABLE_KEYS = ("manifest", "landmarks", "images")  # the arguments of load_tables


def write_job_inputs(rows: list[dict], path: str | Path) -> None:
    """The workflow's list of vendor jobs and the files each reads (rule ``list_vendor_inputs``): one
    row per (dataset, variant) with ``manifest``, ``landmarks`` and ``images`` (empty for ``none``), and
    the ``explain_baseline`` and ``explain_images`` manifests its ``explain_vendor`` job reads (empty when
    vendors are not explained)."""
    write_tsv(pd.DataFrame(rows, columns=JOB_COLUMNS), path)


def read_job_inputs(
    path: str | Path, workdir: str | Path = "."
) -> dict[tuple[str, str], dict[str, Path]]:
    """``(dataset, variant) -> {"manifest", "landmarks"[, "images", "explain_baseline", "explain_images"]}``,
    paths resolved against ``workdir`` (empty cells left out) for each vendor job the workflow plans."""
    workdir = Path(workdir)
    return {
        (r.dataset, r.variant): {
            k: workdir / getattr(r, k) for k in JOB_COLUMNS[2:] if getattr(r, k)
        }
        for r in read_tsv(path, dtype=str).fillna("").itertuples()
    }


def load_tables(manifest, landmarks, images=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(probes, gallery)``; ``images`` is the variant manifest (``None`` for variant ``none``).

    The gallery keeps ``identity`` for choosing pairs (:func:`maskaudit.vendors.pairs.vendor_pairs`)."""
    gallery = read_manifest(manifest)
    gallery["status"] = gallery.image_id.map(load_statuses(landmarks))
    probes = gallery if images is None else read_variant_manifest(images)
    return probes[COLUMNS], gallery[COLUMNS + ["identity"]]
