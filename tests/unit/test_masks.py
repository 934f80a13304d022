"""Known-answer tests for maskaudit.masks on synthetic, anatomically plausible 68-point landmarks."""

import dataclasses
import math

import cv2
import numpy as np
import pytest

from maskaudit.masks import (
    COVERAGE_LEVELS,
    MASK_KINDS,
    MaskRender,
    MaskSpec,
    check_placement,
    estimate_yaw,
    mask_polygon,
    render_mask,
)

BLUE = (0x7F, 0xB2, 0xE0)
COLOURS = [BLUE, (0xF0, 0xF0, 0xF0), (0x20, 0x20, 0x20), (0xE6, 0xBF, 0xA0), (0x6B, 0x46, 0x32)]
EYES, MOUTH = range(36, 48), range(48, 68)


def synthetic_landmarks(cx, cy, scale, roll_deg=0.0):
    """68 dlib points of a frontal face: nose bridge (point 27) at (cx, cy), interocular distance
    (between the eye centres) ``scale`` px, rotated in-plane by ``roll_deg`` (image y points down)."""
    p = np.zeros((68, 2))
    t = np.pi + np.arange(17) * np.pi / 16  # jaw: lower half-ellipse, 0 at the left, 8 = chin
    p[0:17] = np.stack([1.15 * np.cos(t), 0.1 - 1.95 * np.sin(t)], 1)
    bu = np.linspace(-0.95, -0.16, 5)  # brows
    p[17:22] = np.stack([bu, -0.2 - 0.08 * np.sin(np.linspace(0, np.pi, 5))], 1)
    p[22:27] = p[21:16:-1] * [-1, 1]
    p[27:31] = np.stack([np.zeros(4), [0.0, 0.2, 0.4, 0.6]], 1)  # nose bridge, 30 = tip
    p[31:36] = np.stack([[-0.28, -0.14, 0.0, 0.14, 0.28], [0.72, 0.76, 0.8, 0.76, 0.72]], 1)
    ring = np.array(
        [[-0.19, 0], [-0.07, -0.07], [0.07, -0.07], [0.19, 0], [0.07, 0.07], [-0.07, 0.07]]
    )
    p[36:42] = ring + [-0.5, 0.05]  # eye centres 1.0 apart
    p[42:48] = ring + [0.5, 0.05]
    a = np.pi + np.arange(12) * np.pi / 6  # outer lips: 48 left corner, 51 top, 54 right, 57 bottom
    p[48:60] = np.stack([0.55 * np.cos(a), 1.15 + 0.22 * np.sin(a)], 1)
    a = np.pi + np.arange(8) * np.pi / 4  # inner lips
    p[60:68] = np.stack([0.42 * np.cos(a), 1.15 + 0.08 * np.sin(a)], 1)
    r = math.radians(roll_deg)
    rot = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    return p @ rot.T * scale + [cx, cy]


def grey(h=420, w=400, value=128, colour=True):
    """A flat canvas; ``colour=True`` tints blue by one level so it counts as a colour photo (a truly
    grey image gets a grey mask)."""
    return np.full((h, w, 3), (value, value, value + int(colour)), np.uint8)


def alpha_at(alpha, pts, idx):
    return np.array([alpha[int(round(pts[i, 1])), int(round(pts[i, 0]))] for i in idx])


def render(kind, coverage="high", roll=0.0, seed=0, colour=BLUE, shading=0.6, image=None, lm=None):
    lm = synthetic_landmarks(200, 130, 80, roll) if lm is None else lm
    image = grey() if image is None else image
    return render_mask(
        image, lm, MaskSpec(kind, colour, coverage, shading), np.random.default_rng(seed)
    ), lm


def test_synthetic_landmarks_are_what_the_helper_promises():
    lm = synthetic_landmarks(200, 130, 80, 30)
    assert np.allclose(lm[27], [200, 130])
    assert np.isclose(np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)), 80)
    d = lm[42:48].mean(0) - lm[36:42].mean(0)
    assert np.isclose(math.degrees(math.atan2(d[1], d[0])), 30)


@pytest.mark.parametrize("roll", [0.0, 25.0, -25.0])
@pytest.mark.parametrize("coverage", ["high", "medium"])
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_mask_covers_nose_mouth_chin_and_never_the_eyes(kind, coverage, roll):
    r, lm = render(kind, coverage, roll)
    assert alpha_at(r.alpha, lm, (30, 33)).min() >= 0.5
    assert alpha_at(r.alpha, lm, MOUTH).min() >= 0.5
    assert alpha_at(r.alpha, lm, (8,)).min() >= 0.5
    assert alpha_at(r.alpha, lm, EYES).max() <= 0.05
    d = r.diagnostics
    assert (
        d["covers_nose_tip"]
        and d["covers_mouth"]
        and d["covers_chin"]
        and d["eyes_clear"]
        and d["placement_ok"]
    )
    assert d["roll_deg"] == pytest.approx(roll, abs=1e-6)


@pytest.mark.parametrize("roll", [0.0, 25.0, -25.0])
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_low_coverage_leaves_the_nose_tip_uncovered(kind, roll):
    r, lm = render(kind, "low", roll)
    assert alpha_at(r.alpha, lm, (30,))[0] < 0.5
    assert alpha_at(r.alpha, lm, MOUTH).min() >= 0.5
    assert alpha_at(r.alpha, lm, (8,))[0] >= 0.5
    assert alpha_at(r.alpha, lm, EYES).max() <= 0.05
    assert r.diagnostics["placement_ok"] and not r.diagnostics["covers_nose_tip"]


@pytest.mark.parametrize("roll", [0.0, 25.0])
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_top_edge_is_clamped_below_low_set_eyes(kind, roll):
    """Eyes moved 0.3 interocular down (as for a face pitched forward): the lower lids now lie below the
    'high' nose anchor, so only the eye clamp keeps them clear."""
    lm = synthetic_landmarks(200, 130, 80, roll)
    r_ = math.radians(roll)
    lm[36:48] += 0.3 * 80 * np.array([-math.sin(r_), math.cos(r_)])
    r, _ = render(kind, "high", lm=lm)
    assert alpha_at(r.alpha, lm, EYES).max() <= 0.05
    assert r.diagnostics["placement_ok"]


def test_coverage_levels_order_the_top_edge():
    """The mask's top (smallest face-frame v along the nose line) moves down from high to low."""
    lm = synthetic_landmarks(200, 130, 80)
    tops = [mask_polygon(lm, "surgical", c)[:, 1].min() for c in COVERAGE_LEVELS]
    assert tops[0] < tops[1] < tops[2]
    assert lm[28, 1] < tops[0] < lm[29, 1]  # high: on the bridge between points 28 and 29
    assert lm[29, 1] < tops[1] < lm[30, 1]  # medium: just above the tip
    assert lm[33, 1] < tops[2] < lm[51, 1]  # low: between nose base and upper lip


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_polygon_is_rotation_and_translation_equivariant(kind):
    base = mask_polygon(synthetic_landmarks(0, 0, 50), kind)
    moved = mask_polygon(synthetic_landmarks(300, -40, 50, 90.0), kind)
    rot90 = np.array([[0.0, -1.0], [1.0, 0.0]])
    assert base.dtype == np.float64 and base.ndim == 2 and base.shape[1] == 2 and len(base) > 20
    np.testing.assert_allclose(moved, base @ rot90.T + [300, -40], atol=1e-6)
    np.testing.assert_allclose(
        mask_polygon(synthetic_landmarks(0, 0, 100), kind), 2 * base, atol=1e-6
    )


@pytest.mark.parametrize("coverage", COVERAGE_LEVELS)
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_outline_is_a_continuous_function_of_the_landmarks(kind, coverage):
    """1e-9 px of landmark noise moves no outline vertex by 1e-6 px or more (no argmax or threshold
    over near-tied floats), and never changes the vertex count."""
    rng = np.random.default_rng(5)
    for roll in (0.0, 17.0, -33.0, 90.0):
        lm = synthetic_landmarks(200, 130, 80, roll)
        lm[8] = 0.5 * (lm[7] + lm[9]) + [
            0.0,
            1e-12,
        ]  # flat chin: the jaw's lowest point is a near-tie
        base = mask_polygon(lm, kind, coverage)
        for _ in range(4):
            moved = mask_polygon(lm + rng.uniform(-1e-9, 1e-9, lm.shape), kind, coverage)
            assert moved.shape == base.shape
            assert np.abs(moved - base).max() < 1e-6


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_polygon_contains_mouth_and_chin_but_not_eyes(kind):
    lm = synthetic_landmarks(200, 130, 80, 10)
    poly = mask_polygon(lm, kind).astype(np.float32)
    inside = [cv2.pointPolygonTest(poly, tuple(map(float, lm[i])), True) for i in range(68)]
    assert min(inside[i] for i in (8, 30, 33, *MOUTH)) > 1.0  # more than 1 px inside
    assert max(inside[i] for i in EYES) < -5.0  # clearly outside


def test_check_placement_known_answers():
    lm = synthetic_landmarks(200, 130, 80)
    a = np.zeros((420, 400), np.float32)
    d = check_placement(a, lm)
    assert d == {
        **d,
        "covers_nose_tip": False,
        "covers_mouth": False,
        "covers_chin": False,
        "eyes_clear": True,
    }
    assert d["coverage_fraction"] == 0.0 and not d["placement_ok"]
    a[int(lm[29, 1]) :, :] = 1.0  # everything below point 29: nose tip, mouth, chin, no eyes
    d = check_placement(a, lm)
    assert (
        d["covers_nose_tip"]
        and d["covers_mouth"]
        and d["covers_chin"]
        and d["eyes_clear"]
        and d["placement_ok"]
    )
    assert 0.4 < d["coverage_fraction"] < 0.9
    assert not check_placement(a, lm, "low")["placement_ok"]  # low requires the nose tip uncovered
    a[:] = 0.5
    d = check_placement(a, lm)
    assert (
        d["coverage_fraction"] == pytest.approx(0.5) and d["covers_mouth"] and not d["eyes_clear"]
    )
    a[:] = 0.0
    a[int(lm[33, 1]) + 10 :, :] = 1.0
    d = check_placement(a, lm, "low")
    assert d["placement_ok"] and not d["covers_nose_tip"]


def test_check_placement_fails_for_landmarks_outside_the_image():
    lm = synthetic_landmarks(200, 130, 80)
    # image ends above the nose tip
    d = check_placement(np.ones((int(lm[29, 1]), 400), np.float32), lm)
    assert not d["required_in_frame"] and not d["covers_mouth"] and not d["placement_ok"]
    # the all-ones alpha over what is in frame
    assert d["covered_groups"] == "brows,nose_bridge,eyes"
    far = check_placement(np.ones((5, 5), np.float32), lm + 1e4)
    assert (
        far["coverage_fraction"] == 0.0 and not far["placement_ok"] and far["covered_groups"] == ""
    )
    zero = check_placement(np.zeros((420, 400), np.float32), lm)
    assert zero["alpha_max"] == 0.0 and not zero["placement_ok"] and zero["required_in_frame"]


@pytest.mark.parametrize("kind", MASK_KINDS)
@pytest.mark.parametrize("where", [(20, 20), (390, 240), (-60, 100), (-5000, -5000)])
def test_partial_faces_do_not_crash_and_never_pass(kind, where):
    image = grey(300, 400)
    lm = synthetic_landmarks(*where, 90, 15)
    r = render_mask(image, lm, MaskSpec(kind, BLUE), np.random.default_rng(1))
    assert isinstance(r, MaskRender)
    assert r.image.shape == image.shape and r.image.dtype == np.uint8
    assert r.alpha.shape == image.shape[:2] and r.alpha.dtype == np.float32
    assert 0.0 <= r.alpha.min() and r.alpha.max() <= 1.0
    d = r.diagnostics
    assert d["eyes_clear"] and not d["required_in_frame"] and not d["placement_ok"]
    assert 0.05 < d["outside_fraction"] <= 1.0
    if where == (-5000, -5000):
        assert (
            r.alpha.max() == 0.0 and np.array_equal(r.image, image) and d["outside_fraction"] == 1.0
        )
    else:
        assert r.alpha.max() == 1.0
    assert np.array_equal(image, grey(300, 400))  # input untouched


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_inside_faces_report_groups_and_no_outside_area(kind):
    groups = {
        c: set(render(kind, c)[0].diagnostics["covered_groups"].split(",")) for c in COVERAGE_LEVELS
    }
    assert {"nose_bridge", "nose_tip", "mouth"} <= groups["high"]
    assert "nose_bridge" not in groups["medium"] and {"nose_tip", "mouth"} <= groups["medium"]
    assert not groups["low"] & {"nose_bridge", "nose_tip"} and "mouth" in groups["low"]
    assert all(not g & {"eyes", "brows"} for g in groups.values())
    r, _ = render(kind)
    assert r.diagnostics["outside_fraction"] == 0.0 and r.diagnostics["required_in_frame"]


def test_tiny_face_keeps_eyes_clear():
    for kind in MASK_KINDS:
        r, lm = render(kind, lm=synthetic_landmarks(40, 30, 12, 20), image=grey(80, 80))
        assert r.diagnostics["eyes_clear"] and r.diagnostics["covers_mouth"], kind


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_same_seed_gives_identical_bytes(kind):
    a, _ = render(kind, seed=7, roll=12)
    b, _ = render(kind, seed=7, roll=12)
    assert a.image.tobytes() == b.image.tobytes() and a.alpha.tobytes() == b.alpha.tobytes()
    assert a.diagnostics == b.diagnostics


@pytest.mark.parametrize("kind", MASK_KINDS)
def test_different_seed_changes_texture_not_placement(kind):
    a, _ = render(kind, seed=1)
    b, _ = render(kind, seed=2)
    assert a.image.tobytes() != b.image.tobytes()
    assert a.alpha.tobytes() == b.alpha.tobytes() and a.diagnostics == b.diagnostics


def test_global_numpy_random_state_is_not_used():
    np.random.seed(0)
    a, _ = render("cloth", seed=3)
    np.random.seed(1)
    b, _ = render("cloth", seed=3)
    assert a.image.tobytes() == b.image.tobytes()


@pytest.mark.parametrize("colour", COLOURS)
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_flat_colour_fidelity(kind, colour):
    """shading=0: fully covered pixels average to spec.colour. Relief has mean 1 over the mask, so
    only the highlight roll-off above 230 (near-white masks) and rounding move the mean: tolerance 3
    units, 6 for near-white colours."""
    r, _ = render(kind, colour=colour, shading=0.0)
    full = r.alpha >= 0.999
    assert full.sum() > 5000
    mean = r.image[full].astype(float).mean(0)
    if kind != "gas":  # the respirator's grey cartridges are part of the mask but not its colour
        assert np.abs(mean - colour).max() <= (6.0 if max(colour) > 200 else 3.0), mean
    assert np.abs(np.median(r.image[full].astype(float), 0) - colour).max() <= 6.0


def test_shading_zero_ignores_the_scene_but_shading_one_follows_it():
    yy, xx = np.mgrid[0:420, 0:400]
    # darker left, brighter right
    ramp = np.repeat((40 + 0.5 * xx)[..., None], 3, 2).astype(np.uint8)
    ramp[..., 2] += 1  # a colour photo
    flat0, lm = render("surgical", shading=0.0)
    ramp0, _ = render("surgical", shading=0.0, image=ramp)
    full = flat0.alpha >= 0.999
    assert np.array_equal(flat0.image[full], ramp0.image[full])
    lit, _ = render("surgical", shading=1.0, image=ramp)
    left = full & (xx < lm[27, 0] - 40)
    right = full & (xx > lm[27, 0] + 40)
    lum = lit.image.astype(float).mean(2)
    assert lum[right].mean() > 1.2 * lum[left].mean()
    hue = lit.image[full].astype(float)  # colour kept: blue stays the dominant channel
    assert (hue[:, 2] > hue[:, 0]).mean() > 0.99


def test_diagnostics_are_plain_python():
    r, _ = render("n95")
    needed = {
        "covers_nose_tip",
        "covers_mouth",
        "covers_chin",
        "eyes_clear",
        "coverage_fraction",
        "roll_deg",
        "n_vertices",
    }
    assert needed <= set(r.diagnostics)
    assert all(type(v) in (bool, int, float, str) for v in r.diagnostics.values())
    assert 0.3 < r.diagnostics["coverage_fraction"] < 0.9


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "bandana"}, "kind"),
        ({"texture": "tartan"}, "texture"),
        ({"colour": (256, 0, 0)}, "colour"),
        ({"colour": (1, 2)}, "colour"),
        ({"colour": "#7FB2E0"}, "colour"),
        ({"colour": (1.5, 2, 3)}, "colour"),
        ({"coverage": "full"}, "coverage"),
        ({"shading": 1.5}, "shading"),
        ({"shading": -0.1}, "shading"),
        ({"shading": float("nan")}, "shading"),
        ({"shading": "0.5"}, "shading"),
    ],
)
def test_maskspec_validation_names_the_field(kwargs, field):
    args = {"kind": "surgical", "colour": BLUE, **kwargs}
    with pytest.raises(ValueError, match=rf"MaskSpec\.{field}") as err:
        MaskSpec(**args)
    allowed = {
        "kind": "kn95",
        "coverage": "medium",
        "colour": "0..255",
        "shading": "[0, 1]",
        "texture": "floral",
    }[field]
    assert allowed in str(err.value)


def test_maskspec_normalises_values():
    spec = MaskSpec("cloth", [np.uint8(1), 2, 3], shading=1)
    assert spec.colour == (1, 2, 3) and type(spec.colour[0]) is int and spec.shading == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.kind = "n95"  # frozen


def test_invalid_inputs_raise_clear_errors():
    lm = synthetic_landmarks(200, 130, 80)
    spec, rng = MaskSpec("n95", BLUE), np.random.default_rng(0)
    with pytest.raises(ValueError, match="68, 2"):
        render_mask(grey(), lm[:67], spec, rng)
    with pytest.raises(ValueError, match="finite"):
        render_mask(grey(), np.where(np.arange(68)[:, None] == 3, np.nan, lm), spec, rng)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        render_mask(grey()[..., 0], lm, spec, rng)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        render_mask(grey().astype(np.float32), lm, spec, rng)
    with pytest.raises(TypeError, match="Generator"):
        render_mask(grey(), lm, spec, 0)
    with pytest.raises(ValueError, match="kind"):
        mask_polygon(lm, "bandana")
    with pytest.raises(ValueError, match="coverage"):
        check_placement(np.zeros((10, 10)), lm, "none")


def test_random_and_degenerate_landmarks_never_crash():
    rng = np.random.default_rng(123)
    for i in range(30):
        lm = synthetic_landmarks(100, 80, 40, rng.uniform(-180, 180)) + rng.normal(
            0, 4 + i, (68, 2)
        )
        if i % 5 == 0:
            lm[:36] = lm[48]  # collapse jaw, brows and nose onto one point
        spec = MaskSpec(MASK_KINDS[i % 3], BLUE, COVERAGE_LEVELS[i % 3 - 1])
        r = render_mask(grey(200, 220), lm, spec, rng)
        assert r.alpha.shape == (200, 220) and np.isfinite(r.alpha).all()
        assert 0.0 <= r.alpha.min() and r.alpha.max() <= 1.0
    with pytest.raises(ValueError, match="degenerate"):
        mask_polygon(np.zeros((68, 2)), "n95")


def yawed_landmarks(cx, cy, scale, yaw_deg, roll_deg=0.0):
    """Synthetic landmarks of a head turned by ``yaw_deg`` (orthographic, depth per point: jaw sides
    recede, nose tip protrudes), then rolled in-plane."""
    p = synthetic_landmarks(0, 0, 1.0)
    z = np.zeros(68)
    t = np.arange(17) * np.pi / 16
    z[0:17] = -0.5 * np.abs(np.cos(t)) - 0.1  # jaw: sides further back than the chin
    z[17:27], z[27:31], z[31:36] = 0.05, [0.1, 0.25, 0.4, 0.55], [0.25, 0.35, 0.4, 0.35, 0.25]
    z[36:48] = -0.05 - 0.3 * np.abs(p[36:48, 0]) ** 2
    z[48:68] = 0.15 - 0.45 * (p[48:68, 0] / 0.55) ** 2  # lips curve back towards the corners
    y = math.radians(yaw_deg)
    p = np.stack([p[:, 0] * math.cos(y) + z * math.sin(y), p[:, 1]], 1)
    r = math.radians(roll_deg)
    rot = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]])
    return p @ rot.T * scale + [cx, cy]


@pytest.mark.parametrize("yaw", [-45.0, -25.0, 25.0, 45.0])
@pytest.mark.parametrize("coverage", COVERAGE_LEVELS)
@pytest.mark.parametrize("kind", MASK_KINDS)
def test_turned_heads_keep_regions_covered_and_eyes_clear(kind, coverage, yaw):
    lm = yawed_landmarks(200, 130, 90, yaw, roll_deg=12.0)
    r, _ = render(kind, coverage, lm=lm)
    d = r.diagnostics
    assert d["placement_ok"] and d["eyes_clear"] and d["covers_mouth"] and d["covers_chin"], d
    assert d["outside_fraction"] == 0.0


def test_yaw_estimate_follows_the_turn():
    est = [estimate_yaw(yawed_landmarks(200, 130, 90, y, 20.0)) for y in (-45, -25, 0, 25, 45)]
    assert est == sorted(est) and abs(est[2]) < 1.0
    assert all(abs(e - y) < 15 for e, y in zip(est, (-45, -25, 0, 25, 45))), est
    far = [mask_polygon(yawed_landmarks(200, 130, 90, y), "surgical") for y in (0, 40)]
    width = [np.ptp(p[:, 0]) for p in far]
    assert width[1] < 0.95 * width[0]  # foreshortened with the face


def test_black_and_white_photos_get_a_grey_mask():
    r, _ = render("cloth", colour=(200, 40, 40), image=grey(value=90, colour=False))
    full = r.alpha >= 0.999
    px = r.image[full].astype(int)
    assert (px[:, 0] == px[:, 1]).all() and (px[:, 1] == px[:, 2]).all()
    assert abs(px.mean() - (0.299 * 200 + 0.587 * 40 + 0.114 * 40)) < 8  # the colour's luminance
