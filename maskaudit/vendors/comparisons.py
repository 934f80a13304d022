"""The comparisons file of a comparison-only system, written once per (model, dataset, variant); its
contract is in :mod:`maskaudit.protocol`.

``results/comparisons/{model}/{dataset}/{variant}.npz``:

* ``probe_id`` (P,), ``gallery_id`` (G,): the variant's images and the dataset's unmasked images;
* ``similarity`` float32 (P, G): the vendor's **1:1** scores as similarities (higher = more alike;
  ``-raw`` for a distance), NaN = not compared; ``raw_score`` (P, G) beside it, unconverted;
* ``probe_status`` (P,), ``gallery_status`` (G,): ``ok`` or the failure-to-acquire reason
  (``vendor_no_face`` etc. when the vendor failed; dataset/mask reasons passed through);
* ``search_similarity`` float32 (P, G): the vendor's own **1:N search** answers, only the returned
  candidates filled (NaN = not returned, i.e. ranked after every returned one); all NaN when the
  vendor has no search or it was not run; ``search_probe_status`` (P,), ``search_gallery_status`` (G,);
* ``planned`` bool (P, G): the 1:1 cells the job was asked to compare (the sampled pairs, plus the
  full matrix when 1:N came from 1:1 calls); scoring counts failed impostor comparisons only there.

1:1 and search scores are different operations and are never mixed in one array. The JSON sidecar's
``identification`` says which array 1:N ranks come from (``search_similarity``, ``similarity`` when the
full matrix was compared, or none with the reason).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ARRAYS = (
    "probe_id",
    "gallery_id",
    "similarity",
    "raw_score",
    "probe_status",
    "gallery_status",
    "search_similarity",
    "search_probe_status",
    "search_gallery_status",
    "planned",
)


def save_comparisons(path: str | Path, arrays: dict, sidecar: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def dtype(k):
        return (
            bool if k == "planned" else np.float32 if "similarity" in k or k == "raw_score" else str
        )

    out = {
        k: np.asarray(arrays[k], dtype=dtype(k)) for k in ARRAYS if k in arrays or k != "planned"
    }
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **out)
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n")


def load_comparisons(path: str | Path) -> tuple[dict, dict]:
    """``(arrays, sidecar)``; string arrays come back as lists."""
    path = Path(path)
    with np.load(path) as z:
        arrays = {k: (z[k].tolist() if z[k].dtype.kind == "U" else z[k]) for k in z.files}
    return arrays, json.loads(path.with_suffix(".json").read_text())
