"""Explanations (maskaudit/explain): methods on a network built so one region drives the score,
determinism, batching, the geometry back to the image, regions, and the attention statistics
proven by simulation. The demo's real systems run end to end in tests/workflow/test_explain_workflow.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from maskaudit.explain import REGIONS, geometry, methods
from maskaudit.explain.attention import group_contrast
from maskaudit.explain.regions import region_labels, region_shares
from maskaudit.stats.bootstrap import identity_weights, interval, ratio_1d

SIZE = 32


class OneRegionNet(torch.nn.Module):
    """conv -> ReLU -> zero outside ``window`` (the explained layer) -> sum pool -> linear (8-d).
    Pixels outside the window (and its 1-pixel conv margin) cannot change the embedding."""

    def __init__(self, window):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
        gate = torch.zeros(1, 1, SIZE, SIZE)
        (y0, y1), (x0, x1) = window
        gate[..., y0:y1, x0:x1] = 1
        self.register_buffer("gate", gate)
        self.gated = torch.nn.Identity()
        self.fc = torch.nn.Linear(6, 8)

    def forward(self, x):
        a = self.gated(torch.relu(self.conv(x)) * self.gate)
        return self.fc(a.sum((2, 3)))


def _image(seed=1):
    return np.random.default_rng(seed).random((SIZE, SIZE, 3)).astype(np.float32)


def _setup(window):
    net = OneRegionNet(window).eval()
    reference = net(torch.from_numpy(_image(2)).permute(2, 0, 1)[None]).detach()[0]
    r = reference / reference.norm()
    target = lambda emb: emb @ r  # noqa: E731  <f(x), r/|r|>, as the stage explains it

    def score(images):  # the same target, as a black box on (n, H, W, 3) batches
        with torch.no_grad():
            return target(
                net(torch.from_numpy(np.ascontiguousarray(images, np.float32)).permute(0, 3, 1, 2))
            ).numpy()

    return net, target, score


def _inside(window):
    """The pixels that can change the score: the window and the 3 x 3 conv's 1-pixel margin."""
    inside = np.zeros((SIZE, SIZE), bool)
    (y0, y1), (x0, x1) = window
    inside[max(0, y0 - 1) : y1 + 1, max(0, x0 - 1) : x1 + 1] = True
    return inside


def _cells(saliency, n=4):
    m = np.clip(saliency, 0, None)
    c = m.reshape(n, SIZE // n, n, SIZE // n).sum((1, 3)).ravel()
    return c / c.sum()


WINDOWS = [((2, 12), (18, 30)), ((20, 30), (4, 14))]


@pytest.mark.parametrize("window", WINDOWS)
def test_gradient_maps_and_occlusion_find_the_one_region_that_drives_the_score(window):
    from scipy.stats import spearmanr

    net, target, score = _setup(window)
    x = torch.from_numpy(_image()).permute(2, 0, 1)[None]
    inside = _inside(window)
    maps = {
        m: methods.gradient_map(
            net,
            x,
            target,
            m,
            layer="gated",
            samples=4,
            sigma=0.05,
            generator=torch.Generator().manual_seed(3),
        )[0]
        for m in ("gradcam", "gradcampp", "smooth_gradcampp", "smoothgrad")
    }
    maps["occlusion"] = methods.occlusion_map(
        score, _image(), patch=0.125, stride=0.0625, batch_size=512
    )
    maps["rise"] = methods.rise_map(
        score, _image(), n_masks=1000, cells=8, p=0.5, batch_size=1000, rng=np.random.default_rng(4)
    )
    for name, m in maps.items():
        mass = np.clip(m, 0, None)
        # the window and margin are 16 % of the image; RISE's masks are smooth over a cell (4 px), so its
        # mass spills about one cell around the window (0.73 and 0.73 measured for the two windows)
        assert mass[inside].sum() / mass.sum() > (0.65 if name == "rise" else 0.8), name
    # rank agreement over a 4 x 4 grid of cells: every method's top cell is a window cell, and its
    # ranking of the 16 cells correlates with occlusion's
    window_cells = np.flatnonzero(_cells(inside.astype(float)) > 0)
    cells = {name: _cells(m) for name, m in maps.items()}
    for name in cells:
        assert np.argmax(cells[name]) in window_cells, name
        assert spearmanr(cells[name], cells["occlusion"])[0] > 0.6, name


def test_maps_are_deterministic_for_a_seed():
    net, target, score = _setup(WINDOWS[0])
    x = torch.from_numpy(_image()).permute(2, 0, 1)[None]

    def smooth(seed):
        return methods.gradient_map(
            net,
            x,
            target,
            "smooth_gradcampp",
            layer="gated",
            samples=3,
            sigma=0.2,
            generator=torch.Generator().manual_seed(seed),
        )

    def rise(seed):
        return methods.rise_map(
            score, _image(), n_masks=50, cells=4, batch_size=16, rng=np.random.default_rng(seed)
        )

    assert np.array_equal(smooth(1), smooth(1)) and not np.array_equal(smooth(1), smooth(2))
    assert np.array_equal(rise(1), rise(1)) and not np.array_equal(rise(1), rise(2))
    occ = lambda: methods.occlusion_map(score, _image(), batch_size=7)  # noqa: E731
    assert np.array_equal(occ(), occ())


def test_one_occlusion_map_is_one_batched_pass_over_its_copies():
    calls = []

    def score(images):
        calls.append(len(images))
        return images.mean((1, 2, 3))

    masks = methods.occlusion_masks(SIZE, SIZE, 0.25, 0.125)
    assert len(masks) == 49 and masks.any(0).all()  # 7 x 7 patches cover every pixel
    methods.occlusion_map(score, _image(), patch=0.25, stride=0.125, batch_size=64)
    assert calls == [50]  # the image and its 49 copies, one call
    calls.clear()
    methods.occlusion_map(score, _image(), patch=0.25, stride=0.125, batch_size=20)
    assert calls == [20, 20, 10]


def test_a_layer_that_does_not_exist_is_named():
    net, target, _ = _setup(WINDOWS[0])
    with pytest.raises(ValueError, match="not a module"):
        methods.gradient_map(net, torch.zeros(1, 3, SIZE, SIZE), target, "gradcam", layer="conv9")


class WarpModel:
    """acquire() = a known rotation + scale + shift of the image into a 40 x 50 crop, by OpenCV."""

    def __init__(self, affine):
        self.affine = np.asarray(affine, float)  # crop pixel -> image pixel

    def acquire(self, rgb, landmarks, located=None):
        from types import SimpleNamespace

        import cv2

        crop = cv2.warpAffine(
            rgb, self.affine, (50, 40), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
        return SimpleNamespace(status="ok", crop=crop / 255.0)


def test_the_inverse_alignment_is_recovered_from_a_coordinate_ramp():
    angle, scale = np.deg2rad(17), 1.7
    affine = np.array(
        [
            [scale * np.cos(angle), -scale * np.sin(angle), 60.0],
            [scale * np.sin(angle), scale * np.cos(angle), 30.0],
        ]
    )
    fitted = geometry.crop_to_image(WarpModel(affine), (200, 180, 3), None, None)
    corners = np.array([[0, 0], [49, 0], [0, 39], [49, 39]], float)
    assert np.abs(geometry.apply(fitted, corners) - geometry.apply(affine, corners)).max() < 0.5


def test_input_to_crop_inverts_deepface_resize():
    from deepface.modules.preprocessing import resize_image

    crop = np.zeros((60, 90, 3))
    crop[20, 70] = 1.0  # one bright pixel in a wide crop: resize to 47 x 55 pads top and bottom
    net_input = resize_image(crop, (55, 47))[0]
    v, u = np.unravel_index(np.argmax(net_input[..., 0]), net_input.shape[:2])
    back = geometry.apply(geometry.input_to_crop(crop.shape, (47, 55)), [[u, v]])[0]
    assert np.abs(back - [70, 20]).max() <= 1.0


def test_regions_partition_the_image_from_the_landmarks(hopper_rgb, detector):
    lm = detector.detect(hopper_rgb).landmarks
    labels = region_labels(lm, hopper_rgb.shape)
    at = lambda p: REGIONS[labels[int(round(p[1])), int(round(p[0]))]]  # noqa: E731
    assert (
        at(lm[48:60].mean(0)) == "mouth"
        and at(lm[30]) == "nose"
        and at(lm[36:42].mean(0)) == "eyes_brows"
    )
    assert at(lm[4]) == "jaw_cheeks" and at((2, 2)) == "outside"
    shares = region_shares(np.ones(labels.shape), labels)
    assert np.isclose(shares.sum(), 1) and (shares > 0).all()
    assert np.isnan(
        region_shares(-np.ones(labels.shape), labels)
    ).all()  # no support at all: no shares


def _identities(rng, n_ids, effect=0.0):
    """Per-identity sums and counts of a per-photo shift with an identity random effect."""
    counts = rng.integers(1, 4, n_ids).astype(float)
    ident = rng.normal(0, 0.05, n_ids)
    sums = np.array(
        [rng.normal(effect + ident[a], 0.05, int(c)).sum() for a, c in enumerate(counts)]
    )
    return sums, counts


def _shares(rng, n_ids, shift_1=0.0):
    """Per-identity sums of an unmasked and a masked region share (both in [0, 1]) and photo counts; the
    first half of the identities shift by ``shift_1`` more than the second."""
    counts = rng.integers(1, 4, n_ids).astype(float)
    base = np.clip(rng.normal(0.3, 0.05, n_ids), 0, 1)
    extra = np.where(np.arange(n_ids) < n_ids // 2, shift_1, 0.0)
    unmasked = np.array(
        [np.clip(rng.normal(base[a], 0.03, int(c)), 0, 1).sum() for a, c in enumerate(counts)]
    )
    masked = np.array(
        [
            np.clip(rng.normal(base[a] - 0.1 + extra[a], 0.03, int(c)), 0, 1).sum()
            for a, c in enumerate(counts)
        ]
    )
    return masked, unmasked, counts


def test_group_contrast_rejects_at_alpha_under_the_null():
    rng = np.random.default_rng(11)
    g1 = np.arange(24) < 12
    p = [
        group_contrast(*_shares(rng, 24), g1, ~g1, n_boot=20, n_perm=99, rng=rng)["p_permutation"]
        for _ in range(300)
    ]
    rate = np.mean(np.array(p) <= 0.05)
    # 300 tests at alpha 0.05: 95 % binomial range about 0.027-0.077
    assert 0.02 <= rate <= 0.09, rate


def test_group_contrast_is_signed_and_detects_a_real_difference():
    rng = np.random.default_rng(12)
    # group 1 loses 0.1 less share than group 2
    masked, unmasked, counts = _shares(rng, 30, shift_1=0.1)
    g1 = np.arange(30) < 15
    out = group_contrast(masked, unmasked, counts, g1, ~g1, n_boot=200, n_perm=199, rng=rng)
    assert 0.07 < out["difference"] < 0.13 and out["low"] > 0 and out["p_permutation"] < 0.01
    back = group_contrast(masked, unmasked, counts, ~g1, g1, n_boot=200, n_perm=199, rng=rng)
    assert back["difference"] == pytest.approx(-out["difference"])
    few = group_contrast(
        masked, unmasked, counts, g1, ~g1, n_boot=20, n_perm=19, rng=rng, min_identities=20
    )
    assert np.isnan(few["p_permutation"]) and few["reason"]  # too few identities: untested, and why


def test_identity_bootstrap_interval_of_the_mean_shift_covers_at_its_nominal_rate():
    rng = np.random.default_rng(13)
    truth, hits = 0.1, 0
    for _ in range(300):
        sums, counts = _identities(rng, 30, effect=truth)
        low, high = interval(
            ratio_1d(identity_weights(np.zeros(30, int), 200, rng), sums, counts), 0.95
        )
        hits += low <= truth <= high
    # nominal 0.95; percentile intervals with 30 identities
    assert 0.89 <= hits / 300 <= 0.99, hits / 300


def test_a_system_map_sends_the_photo_and_its_copies_through_represent_in_one_call():
    from types import SimpleNamespace

    from maskaudit.explain.run import Settings, explain_crop

    calls = []

    def represent(crops):
        calls.append(len(crops))
        c = np.asarray(crops)
        return np.stack([c[:, :20].mean((1, 2, 3)), c[:, 20:].mean((1, 2, 3)) + 1], axis=1)

    model = SimpleNamespace(card=SimpleNamespace(input_size=(40, 40)), represent=represent)
    crop = _image()[:, :, :]
    sal, value = explain_crop(
        model, crop, represent([crop])[0], Settings("occlusion", batch_size=64), seed=0
    )
    # the reference, then one pass: photo + 49 copies
    assert calls == [1, 50] and np.isclose(value, 1.0)
    assert sal.shape == (40, 40)  # on the (resized) input grid


@pytest.mark.parametrize("alignment", ["shared_landmarks", "end_to_end"])
def test_maps_go_back_onto_the_photo_through_the_models_own_alignment(
    hopper_rgb, detector, alignment
):
    """The model's real alignment code (dlib's face chip; deepface's extract_face with eye alignment, fed
    a stored region as locate_faces stores it): the crop moved back by the fitted affine lies on the photo."""
    from types import SimpleNamespace

    from maskaudit.models import get_card
    from maskaudit.models.base import EmbeddingModel
    from maskaudit.models.located import WIDTH

    lm = detector.detect(hopper_rgb).landmarks.astype(float)
    model = SimpleNamespace(alignment=alignment, card=get_card("dlib"))
    model._detect = lambda rgb, located: EmbeddingModel._detect(model, rgb, located)
    model.acquire = lambda rgb, landmarks, located: EmbeddingModel.acquire(
        model, rgb, landmarks, located
    )
    located = None
    # a region in the bordered image's coordinates, eyes tilted by the pose
    if alignment == "end_to_end":
        hb, wb = int(0.5 * hopper_rgb.shape[0]), int(0.5 * hopper_rgb.shape[1])
        (x0, y0), (x1, y1) = lm.min(0), lm.max(0)
        located = np.full((1, WIDTH), np.nan)
        located[0, :5] = [x0 + wb, y0 + hb, x1 - x0, y1 - y0, 0.9]
        located[0, 5:9] = [*(lm[42:48].mean(0) + [wb, hb]), *(lm[36:42].mean(0) + [wb, hb])]
    face = model.acquire(hopper_rgb, lm, located)
    affine = geometry.crop_to_image(model, hopper_rgb.shape, lm, located)
    crop = np.asarray(face.crop, float)[..., 1]
    seen = geometry.warp(np.ones_like(crop), affine, hopper_rgb.shape) > 0.999
    photo = hopper_rgb[..., 1] / 255.0

    def error(a):
        return np.abs(geometry.warp(crop, a, hopper_rgb.shape)[seen] - photo[seen]).mean()

    shifted = affine.copy()
    shifted[:, 2] += 3
    # (the chip is upsampled back, so its blur leaves about 0.03 of error; 3 px off doubles it)
    assert seen.sum() > 5000 and error(affine) < 0.04 and error(affine) < error(shifted) / 2, (
        error(affine),
        error(shifted),
    )


def test_each_system_gets_its_method_layer_and_only_that_methods_parameters():
    import yaml
    from conftest import REPO

    from maskaudit.config import load_schema, validate_config
    from maskaudit.explain.run import settings_for
    from maskaudit.models import get_card

    cfg = validate_config(
        yaml.safe_load((REPO / "config/config.yaml").read_text()),
        load_schema(REPO / "workflow/schemas/config.schema.yaml"),
    )
    explain = {
        **cfg["explain"],
        "overrides": {"arcface": {"method": "smooth_gradcampp", "layer": "backbone.conv4"}},
    }
    dlib = settings_for(get_card("dlib"), explain)
    assert (
        dlib.method == "occlusion"
        and dlib.layer is None
        and dlib.occlusion
        and not dlib.rise
        and not dlib.smooth
    )
    vgg = settings_for(get_card("vgg_face"), explain)
    assert (
        vgg.method == "gradcam"
        and vgg.layer == "model.conv5_3"
        and not (vgg.occlusion or vgg.rise or vgg.smooth)
    )
    arc = settings_for(get_card("arcface"), explain)
    assert (arc.method, arc.layer) == ("smooth_gradcampp", "backbone.conv4") and arc.smooth == cfg[
        "explain"
    ]["smooth"]


def test_attention_tables_pair_photos_count_failures_and_keep_their_columns_when_empty():
    import pandas as pd

    from maskaudit.explain.attention import attention_tables

    rows = []
    for k in range(6):
        for variant, mouth in (("none", 0.3), ("mask", 0.1)):
            status = "mask_render_failed" if (variant, k) == ("mask", 5) else "ok"
            rows.append(
                {
                    "model": "m",
                    "variant": variant,
                    "method": "occlusion",
                    "image_id": f"i{k}",
                    "identity": f"p{k // 2}",
                    "gender": ["female", "male", "female"][k // 2],
                    "race": "unknown",
                    "status": status,
                    "share_eyes_brows": 0.7 - mouth,
                    "share_nose": 0.0,
                    "share_mouth": mouth,
                    "share_jaw_cheeks": 0.2,
                    "share_outside": 0.1,
                }
            )
    shifts, contrasts = attention_tables(
        pd.DataFrame(rows), dataset="d", seed=1, n_boot=50, n_perm=20, min_identities=2
    )
    mouth = shifts[(shifts.attribute == "overall") & (shifts.region == "mouth")].iloc[0]
    assert (
        mouth["shift"] == pytest.approx(-0.2)
        and mouth.n_images == 5
        and mouth.n_failed == 1
        and mouth.n_units == 3
    )
    # race: only unknown, no contrast
    assert set(contrasts.group_1 + "-" + contrasts.group_2) == {"female-male"}
    empty = attention_tables(
        pd.DataFrame(rows)[lambda t: t.variant == "none"], dataset="d", seed=1, n_boot=5, n_perm=5
    )
    # a premasked dataset has only `none`
    assert all(t.empty and len(t.columns) > 10 for t in empty)


def test_copies_a_system_could_not_score_get_the_floor_and_are_counted():
    """A vendor that finds no face in a copy returns no score: the copy scores the bottom of the scale
    (or, without one, the lowest score of the photo and its copies), so hiding that part is the
    largest drop, and the map formulas see no NaN."""
    scores = np.array([0.9, np.nan, 0.4, np.nan])
    filled, n = methods.floor_missing(0.8, scores, floor=0.0)
    assert n == 2 and filled.tolist() == [0.9, 0.0, 0.4, 0.0]
    filled, n = methods.floor_missing(0.8, scores)
    assert n == 2 and filled.tolist() == [0.9, 0.4, 0.4, 0.4]
    filled, n = methods.floor_missing(0.8, scores[[0, 2]])
    assert n == 0 and filled.tolist() == [0.9, 0.4]
    masks = methods.occlusion_masks(8, 8, 0.5, 0.5)
    sal = methods.occlusion_from_scores(0.8, methods.floor_missing(0.8, scores, 0.0)[0], masks)
    # the faceless copy: full drop
    assert np.isfinite(sal).all() and sal[masks[1]].min() == pytest.approx(0.8)
