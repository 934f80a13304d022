"""Renders are the same bytes on any x86-64 machine (issue 22, item 8).

Two CPUs differ in the last bits of transcendental functions, BLAS products and dispatched filters.
The renderer quantises such values before they decide a pixel and composites in integers
(maskaudit/masks/render.py), so (1) nudging every float input by one ulp, up, down or mixed, must
leave the bytes unchanged, and (2) renders of a package-shipped face must match hashes committed here
(our own renders' hashes; no image is stored).
"""

import hashlib

import numpy as np
import pytest
from test_masks import grey, synthetic_landmarks

from maskaudit.masks import MaskSpec, render_mask

CASES = [
    ("surgical", "plain", 0.6),
    ("n95", "check", 0.6),
    ("kn95", "plain", 1.0),
    ("cloth", "weave", 0.6),
    ("gas", "dots", 0.3),
    ("wide", "floral", 0.6),
    ("round", "plain", 0.6),
]


@pytest.fixture(scope="module")
def hopper_face(hopper_rgb):
    from maskaudit.masks.faces import FaceFinder

    return hopper_rgb, FaceFinder().find(hopper_rgb)[0].landmarks.astype(np.float64)


def render_bytes(image, lm, kind, texture, shading, seed=7):
    spec = MaskSpec(kind, (0x7F, 0xB2, 0xE0), shading=shading, texture=texture)
    return render_mask(image, lm, spec, np.random.default_rng(seed)).image.tobytes()


def nudged(x, how, rng):
    up, down = np.nextafter(x, np.inf), np.nextafter(x, -np.inf)
    return {"up": up, "down": down, "mixed": np.where(rng.random(np.shape(x)) < 0.5, up, down)}[how]


def shaded_canvas():
    """A canvas with smooth light and colour gradients, so lighting and shading have work to do."""
    yy, xx = np.mgrid[0:420, 0:400]
    img = np.stack([90 + 0.3 * xx, 120 + 0.2 * yy, 150 - 0.1 * xx + 0.05 * yy], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind,texture,shading", CASES)
def test_one_ulp_on_every_float_input_leaves_the_bytes_unchanged(
    hopper_face, kind, texture, shading
):
    """Inputs: the 68 landmarks (136 floats) and the shading; both real (dlib) and synthetic
    (non-integer, rolled 17 degrees) landmarks."""
    rng = np.random.default_rng(0)
    faces = [hopper_face, (shaded_canvas(), synthetic_landmarks(200.3, 130.7, 81.37, 17.0))]
    for image, lm in faces:
        reference = render_bytes(image, lm, kind, texture, shading)
        for how in ("up", "down", "mixed"):
            s = float(nudged(np.float64(shading), how, rng))
            assert (
                render_bytes(image, nudged(lm, how, rng), kind, texture, min(max(s, 0.0), 1.0))
                == reference
            ), how


TRANSCENDENTAL = ("exp", "tanh", "sin", "cos", "hypot", "arctan2", "sqrt", "power", "log", "interp")


class OtherMachine:
    """numpy as another CPU computes it: every transcendental result one ulp off, up or down at random
    (SIMD exp/sin/pow differ from libm by up to an ulp between AVX2 and AVX-512 builds)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __getattr__(self, name):
        real = getattr(np, name)
        if name not in TRANSCENDENTAL:
            return real

        def nudged_call(*args, **kwargs):
            out = real(*args, **kwargs)
            if not np.issubdtype(np.asarray(out).dtype, np.floating):
                return out
            up = self.rng.random(np.shape(out)) < 0.5
            return np.where(up, np.nextafter(out, np.inf), np.nextafter(out, -np.inf)).astype(
                np.asarray(out).dtype
            )

        return nudged_call


@pytest.mark.parametrize("kind,texture,shading", CASES)
def test_transcendental_results_one_ulp_off_leave_the_bytes_unchanged(
    hopper_face, monkeypatch, kind, texture, shading
):
    """A simulated second machine: exp, tanh, sin, cos, hypot, arctan2, sqrt, power, log and interp in
    the renderer and the mask geometry each return a result one ulp off (three random patterns)."""
    import maskaudit.masks.geometry as geometry
    import maskaudit.masks.render as render

    image, lm = hopper_face
    reference = render_bytes(image, lm, kind, texture, shading)
    for seed in range(3):
        monkeypatch.setattr(render, "np", OtherMachine(seed))
        monkeypatch.setattr(geometry, "np", OtherMachine(100 + seed))
        assert render_bytes(image, lm, kind, texture, shading) == reference, seed
        monkeypatch.undo()


HASHES = {  # SHA-256 of render_bytes(hopper, its dlib landmarks, ...) with maskaudit-procedural-3
    "surgical": "4bdba400fcc855ee6fb246f7f43f5e61e2afcf9f20e7075ccde4ed8d5a4f8978",
    "n95": "bacf949c5c19526acbdda4e7a513c34f12e3b17252ab07942b049ed006eba98d",
    "kn95": "655493b7a1675c172672207284e08ee6cd6dd09708a358e2303fcb936f05b8b6",
    "cloth": "128aceb735d81d9f23fa2ff84ee9d6c49e8ed4d952d1628bbe4b1ad9faffad11",
    "gas": "8060827b11e2915eec1a61cef81b72ab1e342298c57524c3ede42d36fbd3b4c6",
    "wide": "123f0708b7212be32edfa11743b3a295d647392a48cefe6c3d983b33cbc97a9e",
    "round": "9c46c8eb4890ea0a9545f3dbd19eef77cdfd1475f808910d2378ee99ee14b05d",
}


@pytest.mark.parametrize("kind,texture,shading", CASES)
def test_renders_match_their_committed_hashes(hopper_face, kind, texture, shading):
    image, lm = hopper_face
    assert (
        hashlib.sha256(render_bytes(image, lm, kind, texture, shading)).hexdigest() == HASHES[kind]
    )


def test_a_grey_photo_gets_a_grey_mask_in_integer_arithmetic():
    out = render_mask(
        grey(colour=False),
        synthetic_landmarks(200, 130, 80),
        MaskSpec("n95", (200, 40, 40)),
        np.random.default_rng(0),
    ).image
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
