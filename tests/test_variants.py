"""Masking a dataset: one row per image, failures carried through, placement checks recorded."""

import numpy as np
import pandas as pd
from PIL import Image

from maskaudit.masks import MaskSpec
from maskaudit.variants import hex_to_rgb, mask_dataset, read_variant_manifest, spec_from_variant, write_variant_manifest


def test_spec_from_variant():
    spec = spec_from_variant({"kind": "n95", "colour": "skin_dark", "hex": "#6B4632", "coverage": "low"})
    assert spec == MaskSpec("n95", (107, 70, 50), "low", 0.6)
    assert hex_to_rgb("#7FB2E0") == (127, 178, 224)


def test_mask_dataset_rows_and_failures(tmp_path, hopper_path, detector, hopper_rgb):
    lm = detector.detect(hopper_rgb).landmarks
    manifest = pd.DataFrame({"image_id": ["hopper", "noface", "gone"],
                             "path": [str(hopper_path), str(hopper_path), str(tmp_path / "absent.jpg")]})
    landmarks = {"hopper": lm, "noface": None, "gone": lm}
    statuses = {"hopper": "ok", "noface": "no_face", "gone": "ok"}
    spec = MaskSpec("surgical", (127, 178, 224))
    out = mask_dataset(manifest, landmarks, statuses, spec, dataset="t", variant="surgical-blue", seed=1,
                       out_dir=tmp_path / "img")
    assert out.status.tolist() == ["ok", "no_face", "missing_file"]
    hop = out.iloc[0]
    assert hop.placement_ok and hop.covers_mouth and hop.eyes_clear and 0 < hop.coverage_fraction < 1
    masked = np.asarray(Image.open(hop.path))
    changed = np.any(masked != hopper_rgb, axis=2)
    ys = np.nonzero(changed)[0]
    assert lm[36:48, 1].max() < ys.min() and ys.max() > lm[8, 1]  # below the eyes, down past the chin
    again = mask_dataset(manifest, landmarks, statuses, spec, dataset="t", variant="surgical-blue", seed=1,
                         out_dir=tmp_path / "img2")
    assert open(again.path[0], "rb").read() == open(hop.path, "rb").read()  # seeded: byte-identical
    write_variant_manifest(out, tmp_path / "manifest.tsv")
    back = read_variant_manifest(tmp_path / "manifest.tsv")
    assert back.path[0] == str(tmp_path / "img" / "hopper.png") and back.path[1] == ""
