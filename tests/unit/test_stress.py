"""The synthetic stress dataset: seeded, labelled as synthetic, person-preserving, decodable."""

import pandas as pd
from PIL import Image

from maskaudit.datasets.manifest import validate_manifest
from maskaudit.datasets.stress import SYNTHETIC_TAG, build_stress


def _sources(hopper_path, tmp_path):
    return validate_manifest(
        pd.DataFrame(
            [
                {
                    "image_id": "hopper",
                    "path": str(hopper_path),
                    "identity": "grace_hopper",
                    "gender": "female",
                    "race": "white",
                    "age": "",
                    "source": "matplotlib",
                    "licence": "public domain",
                },
                {
                    "image_id": "gone",
                    "path": str(tmp_path / "missing.jpg"),
                    "identity": "nobody",
                    "gender": "",
                    "race": "",
                    "age": "",
                    "source": "",
                    "licence": "",
                },
            ]
        )
    )


def test_stress_images_are_seeded_synthetic_and_keep_the_person(hopper_path, tmp_path):
    sources = _sources(hopper_path, tmp_path)
    a = build_stress(sources, size=6, seed=7, out_dir=tmp_path / "a", max_side=200)
    b = build_stress(sources, size=6, seed=7, out_dir=tmp_path / "b", max_side=200)
    c = build_stress(sources, size=6, seed=8, out_dir=tmp_path / "c", max_side=200)
    assert a.attrs["skipped"] == [{"image_id": "gone", "reason": "missing_file"}]
    assert list(a.identity.unique()) == ["grace_hopper"] and set(a.gender) == {"female"}
    assert a.source.str.startswith(f"{SYNTHETIC_TAG} of hopper:").all()
    bytes_a = [open(p, "rb").read() for p in a.path]
    assert bytes_a == [open(p, "rb").read() for p in b.path]  # same seed: identical files
    assert bytes_a != [open(p, "rb").read() for p in c.path]  # other seed: other images
    assert len(set(bytes_a)) == 6  # every augmentation differs
    assert all(max(Image.open(p).size) <= 200 for p in a.path)
    validate_manifest(a)  # the rows meet the manifest contract


def test_contact_sheet_sample_is_seeded_bounded_and_keeps_failures_visible():
    import numpy as np

    from maskaudit.plots import sheet_sample

    statuses = ["ok"] * 900 + ["no_face"] * 100
    a = sheet_sample(statuses, 64, np.random.default_rng(1))
    assert len(a) == 64 and list(a) == sorted(set(a))
    assert list(a) == list(sheet_sample(statuses, 64, np.random.default_rng(1)))
    assert sum(statuses[i] != "ok" for i in a) == 32  # failures fill up to half the sheet
    assert list(sheet_sample(statuses[:10], 64, np.random.default_rng(1))) == list(range(10))
