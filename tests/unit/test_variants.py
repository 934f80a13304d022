"""Masking a dataset: one row per image, failures and partial coverage recorded, seeds without colour,
crops shared with the unmasked baseline."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from maskaudit.masking import (
    crop_box,
    draw_point,
    expand_variants,
    hex_to_rgb,
    mask_dataset,
    read_variant_manifest,
    resolve_variant,
    spec_from_variant,
    stored_landmarks,
    write_variant_manifest,
)
from maskaudit.masks import MaskSpec

MASKS = {
    "colours": {"blue": "#7FB2E0", "white": "#F0F0F0", "skin_dark": "#6B4632"},
    "variants": {
        "surgical-blue": {"kind": "surgical", "colour": "blue"},
        "surgical-white": {"kind": "surgical", "colour": "white"},
        "n95-custom": {"kind": "n95", "colour": "#1f5fbf", "coverage": "low", "texture": "dots"},
        "mix": {"kind": ["surgical", "cloth", "kn95"], "colour": ["blue", "#00FF00"]},
    },
}
PNG = {"format": "png", "png_level": 1}


def test_spec_and_variant_resolution():
    spec = spec_from_variant(
        {"kind": "n95", "colour": "skin_dark", "hex": "#6B4632", "coverage": "low"}
    )
    assert spec == MaskSpec("n95", (107, 70, 50), "low", 0.6)
    assert hex_to_rgb("#7FB2E0") == (127, 178, 224)
    v = resolve_variant(MASKS, "n95-custom")
    assert (
        v["hex"] == "#1F5FBF"
        and v["texture"] == "dots"
        and v["shading"] == 0.6
        and v["id"] == "n95-custom"
    )
    mix = resolve_variant(MASKS, "mix")
    assert (
        mix["hex"] == "#7FB2E0|#00FF00" and mix["kind"] == "surgical|cloth|kn95"
    )  # plain strings downstream
    assert resolve_variant(MASKS, "none")["kind"] == "none"
    with pytest.raises(ValueError, match="neither a name under masks.colours"):
        resolve_variant({**MASKS, "variants": {"x": {"kind": "n95", "colour": "teal"}}}, "x")


def test_grid_expands_to_named_points():
    grid = {
        "kinds": ["wide", "round"],
        "colours": ["blue", "#000000"],
        "coverages": ["high", "low"],
    }
    names = expand_variants({"variants": {}, "grid": grid})
    assert len(names) == 8 and "wide-blue" in names and "round-000000-low" in names
    assert names["round-000000-low"] == {
        "kind": "round",
        "colour": "#000000",
        "texture": "plain",
        "coverage": "low",
    }


def test_random_draw_is_seeded_per_image_and_covers_the_lists():
    mix = resolve_variant(MASKS, "mix")
    draws = [draw_point(mix, 1, "d", f"img{i}") for i in range(60)]
    assert draws == [draw_point(mix, 1, "d", f"img{i}") for i in range(60)]
    assert {d["kind"] for d in draws} == {"surgical", "cloth", "kn95"}
    assert {(d["colour"], d["hex"]) for d in draws} == {("blue", "#7FB2E0"), ("#00FF00", "#00FF00")}
    assert draws != [draw_point(mix, 2, "d", f"img{i}") for i in range(60)]


def test_crop_box_is_face_centred_and_clipped():
    lm = np.array([[100.0, 100.0], [200.0, 180.0]])
    assert crop_box(lm, 1000, 1000, 0.5) == (50, 40, 250, 240)
    assert crop_box(lm, 220, 1000, 0.5) == (50, 40, 220, 240)
    x0, y0, x1, y1 = crop_box(lm + 5000, 300, 300, 0.5)
    assert 0 <= x0 < x1 <= 300 and 0 <= y0 < y1 <= 300  # off-image faces still give a valid box


@pytest.fixture(scope="module")
def hopper_lm(detector, hopper_rgb):
    return detector.detect(hopper_rgb).landmarks


def test_mask_dataset_rows_and_failures(tmp_path, hopper_path, hopper_rgb, hopper_lm):
    lm = hopper_lm
    manifest = pd.DataFrame(
        {
            "image_id": ["hopper", "noface", "gone"],
            "path": [str(hopper_path), str(hopper_path), str(tmp_path / "absent.jpg")],
        }
    )
    landmarks = {"hopper": lm, "noface": None, "gone": lm}
    statuses = {"hopper": "ok", "noface": "no_face", "gone": "ok"}
    variant = resolve_variant(MASKS, "surgical-blue")
    out = mask_dataset(
        manifest,
        landmarks,
        statuses,
        variant,
        dataset="t",
        seed=1,
        out_dir=tmp_path / "img",
        storage=PNG,
    )
    assert out.status.tolist() == ["ok", "no_face", "missing_file"]
    hop = out.iloc[0]
    assert (
        hop.placement_ok and hop.covers_mouth and hop.eyes_clear and 0 < hop.occluded_fraction < 1
    )
    assert hop.outside_fraction == 0 and hop.covered_groups.startswith(
        "jaw,nose_bridge,nose_tip,mouth"
    )
    assert abs(hop.yaw_deg) < 20 and abs(hop.roll_deg) < 10 and 50 < hop.eye_distance_px < 200
    x0, y0, x1, y1 = crop_box(lm, hopper_rgb.shape[1], hopper_rgb.shape[0], 0.6)
    assert (hop.crop_x0, hop.crop_y0, hop.crop_w, hop.crop_h) == (x0, y0, x1 - x0, y1 - y0)
    masked = np.asarray(Image.open(hop.path))
    original = hopper_rgb[y0:y1, x0:x1]
    assert masked.shape == original.shape
    ys = np.nonzero(np.any(masked != original, axis=2))[0]
    shifted = stored_landmarks(out, landmarks)["hopper"]
    assert np.allclose(shifted, lm - [x0, y0])
    # below the eyes, past the chin
    assert shifted[36:48, 1].max() < ys.min() and ys.max() > shifted[8, 1]
    again = mask_dataset(
        manifest,
        landmarks,
        statuses,
        variant,
        dataset="t",
        seed=1,
        out_dir=tmp_path / "img2",
        storage=PNG,
    )
    assert open(again.path[0], "rb").read() == open(hop.path, "rb").read()  # seeded: byte-identical
    write_variant_manifest(out, tmp_path / "manifest.tsv")
    back = read_variant_manifest(tmp_path / "manifest.tsv")
    assert back.path[0] == str(tmp_path / "img" / "hopper.png") and back.path[1] == ""
    assert back.covered_groups[0] == hop.covered_groups


def test_baseline_is_cropped_and_encoded_like_the_masks(
    tmp_path, hopper_path, hopper_rgb, hopper_lm
):
    manifest = pd.DataFrame({"image_id": ["hopper"], "path": [str(hopper_path)]})
    args = dict(landmarks={"hopper": hopper_lm}, statuses={"hopper": "ok"}, dataset="t", seed=1)
    none = mask_dataset(
        manifest, variant=resolve_variant(MASKS, "none"), out_dir=tmp_path / "none", **args
    )
    blue = mask_dataset(
        manifest, variant=resolve_variant(MASKS, "surgical-blue"), out_dir=tmp_path / "b", **args
    )
    # default storage: JPEG crops
    assert none.path[0].endswith(".jpg") and blue.path[0].endswith(".jpg")
    a, b = Image.open(none.path[0]), Image.open(blue.path[0])
    assert a.size == b.size == (none.crop_w[0], none.crop_h[0]) and a.format == b.format == "JPEG"
    assert (
        none.status[0] == "ok"
        and none.occluded_fraction[0] == 0
        and none.yaw_deg[0] == blue.yaw_deg[0]
    )
    full = mask_dataset(
        manifest,
        variant=resolve_variant(MASKS, "none"),
        out_dir=tmp_path / "f",
        storage={**PNG, "frame": "full"},
        **args,
    )
    # lossless full frame = original
    assert np.array_equal(np.asarray(Image.open(full.path[0])), hopper_rgb)


def test_colour_variants_differ_only_in_colour(tmp_path, hopper_path, hopper_rgb, hopper_lm):
    """Same seed for both colours (the seed never includes the colour): identical footprint, identical
    pixels outside it, and the same texture pattern inside it."""
    manifest = pd.DataFrame({"image_id": ["hopper"], "path": [str(hopper_path)]})
    masks = {
        **MASKS,
        "variants": {
            "c-blue": {"kind": "cloth", "colour": "blue", "texture": "floral"},
            "c-white": {"kind": "cloth", "colour": "white", "texture": "floral"},
        },
    }
    args = dict(
        landmarks={"hopper": hopper_lm}, statuses={"hopper": "ok"}, dataset="t", seed=3, storage=PNG
    )
    a = mask_dataset(
        manifest, variant=resolve_variant(masks, "c-blue"), out_dir=tmp_path / "a", **args
    )
    b = mask_dataset(
        manifest, variant=resolve_variant(masks, "c-white"), out_dir=tmp_path / "b", **args
    )
    assert a.seed[0] == b.seed[0]
    ia, ib = (np.asarray(Image.open(p[0])).astype(float) for p in (a.path, b.path))
    orig = hopper_rgb[
        a.crop_y0[0] : a.crop_y0[0] + a.crop_h[0], a.crop_x0[0] : a.crop_x0[0] + a.crop_w[0]
    ]
    changed_a, changed_b = np.any(ia != orig, 2), np.any(ib != orig, 2)
    assert (changed_a ^ changed_b).mean() < 0.001  # same footprint (up to pixels equal by chance)
    assert np.array_equal(ia[~changed_a & ~changed_b], ib[~changed_a & ~changed_b])
    inside = changed_a & changed_b
    ga, gb = ia[inside].mean(1), ib[inside].mean(1)  # luminance pattern: pleats, print, lighting
    assert np.corrcoef(ga, gb)[0, 1] > 0.9
    other = mask_dataset(
        manifest,
        variant=resolve_variant(masks, "c-white"),
        out_dir=tmp_path / "c",
        **{**args, "seed": 4},
    )
    gc = np.asarray(Image.open(other.path[0])).astype(float)[inside].mean(1)
    # another seed: another print
    assert np.corrcoef(gb, gc)[0, 1] < np.corrcoef(ga, gb)[0, 1] - 0.05


def test_faces_leaving_the_image_are_counted_not_passed(tmp_path, hopper_rgb, hopper_lm):
    lm = hopper_lm
    cut = tmp_path / "cut.png"
    Image.fromarray(hopper_rgb[: int(lm[51, 1])]).save(cut)  # image ends at the upper lip
    blank = tmp_path / "blank.png"
    Image.fromarray(hopper_rgb).save(blank)
    manifest = pd.DataFrame({"image_id": ["cut", "away"], "path": [str(cut), str(blank)]})
    landmarks = {"cut": lm, "away": lm + [0.0, 5000.0]}  # a face entirely below the image
    out = mask_dataset(
        manifest,
        landmarks,
        {"cut": "ok", "away": "ok"},
        resolve_variant(MASKS, "surgical-white"),
        dataset="t",
        seed=1,
        out_dir=tmp_path / "o",
        storage=PNG,
    )
    cut_row, away = out.iloc[0], out.iloc[1]
    assert cut_row.status == "mask_partial_out_of_frame" and not cut_row.required_in_frame
    assert 0.1 < cut_row.outside_fraction < 0.9 and "outside the image" in cut_row.detail
    assert "nose_tip" in cut_row.covered_groups and "mouth" not in cut_row.covered_groups
    assert (
        away.status == "mask_render_failed"
        and "zero alpha" in away.detail
        and away.outside_fraction == 1.0
    )
    assert cut_row.path and away.path  # kept for inspection
