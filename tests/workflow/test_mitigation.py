"""Mask-robust heads (maskaudit/mitigation): loss known answers, the split, the NumPy head, training
on synthetic pairs, the before/after view, and the heads the demo audit trains (fixture ``audit``)."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from maskaudit.embed import load_cache, save_cache
from maskaudit.mitigation import derived_card, head_id, head_models, parse_head_id
from maskaudit.mitigation.data import load_pairs, read_split, split_identities, subset
from maskaudit.mitigation.evaluate import before_after, paired_change
from maskaudit.mitigation.head import forward, load_checkpoint, save_checkpoint
from maskaudit.mitigation.losses import (
    barlow_twins_loss,
    contrastive_loss,
    cross_correlation,
    triplet_mse_loss,
)
from maskaudit.mitigation.train import ResidualHead, train_head
from maskaudit.models import REGISTRY, get_card

T = torch.tensor
SQ2 = math.sqrt(2.0)
# four samples whose two columns are standardised and uncorrelated: C(Z, Z) = I
Z = T([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])


def test_cross_correlation_is_the_pearson_matrix():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    a[:, 1] += 2 * b[:, 0]
    expected = np.corrcoef(a.T, b.T)[:3, 3:]
    assert np.allclose(cross_correlation(T(a), T(b)).numpy(), expected, atol=1e-5)
    assert np.allclose(cross_correlation(Z, Z).numpy(), np.eye(2), atol=1e-5)


def test_barlow_twins_known_answers():
    # invariant and decorrelated
    assert barlow_twins_loss(Z, Z).item() == pytest.approx(0.0, abs=1e-5)
    # C = -I: (1 - (-1))^2 per dim
    assert barlow_twins_loss(Z, -Z).item() == pytest.approx(4 * 2, rel=1e-5)
    # C = [[0, 1], [1, 0]]: diagonal 2 x 1, off-diagonal 2 x 1 weighted by lambda
    swapped = Z[:, [1, 0]]
    assert barlow_twins_loss(Z, swapped, lambd=0.25).item() == pytest.approx(2 + 0.25 * 2, rel=1e-5)
    with pytest.raises(ValueError):
        barlow_twins_loss(Z[:1], Z[:1])  # batch statistics need two samples


def test_triplet_margin_and_mse_pull_known_answers():
    e = T([[1.0, 0.0], [0.0, 1.0]])
    ids = T([0, 1])
    # positives coincide, the negative is sqrt(2) away: hinge max(0, 0 - sqrt2 + m)
    assert triplet_mse_loss(e, e, ids, margin=0.2).item() == pytest.approx(0.0, abs=1e-6)
    assert triplet_mse_loss(e, e, ids, margin=2.0).item() == pytest.approx(2 - SQ2, rel=1e-5)
    # unmasked swapped: d(a, p) = sqrt2, d(a, n) = 0; MSE over elements of (1, -1, -1, 1)^2 = 1
    swapped = e[[1, 0]]
    assert triplet_mse_loss(e, swapped, ids, margin=0.2, mse_weight=3.0).item() == pytest.approx(
        SQ2 + 0.2 + 3.0, rel=1e-5
    )
    assert triplet_mse_loss(e, swapped, ids, margin=0.2, mse_weight=0.0).item() == pytest.approx(
        SQ2 + 0.2, rel=1e-5
    )
    # one identity: no negative, only the pull; outputs are normalised first (scale does not matter)
    assert triplet_mse_loss(3 * e, swapped, T([0, 0]), mse_weight=1.0).item() == pytest.approx(
        1.0, rel=1e-5
    )


def test_contrastive_known_answers():
    e = T([[1.0, 0.0], [0.0, 1.0]])
    ids = T([0, 1])
    # impostors beyond m
    assert contrastive_loss(e, e, ids, margin=0.5).item() == pytest.approx(0.0, abs=1e-6)
    assert contrastive_loss(e, e, ids, margin=2.0).item() == pytest.approx(
        0.5 * (2 - SQ2) ** 2, rel=1e-4
    )
    # swapped: genuine pairs sqrt2 apart (0.5 * 2), impostor pairs coincide (0.5 * m^2)
    assert contrastive_loss(e, e[[1, 0]], ids, margin=0.5).item() == pytest.approx(
        1.0 + 0.5 * 0.25, rel=1e-4
    )


def test_losses_have_gradients_that_pull_masked_to_unmasked():
    rng = np.random.default_rng(1)
    m = T(rng.normal(size=(8, 4)), dtype=torch.float32, requires_grad=True)
    u = T(rng.normal(size=(8, 4)), dtype=torch.float32)
    ids = T([0, 0, 1, 1, 2, 2, 3, 3])
    for fn in (barlow_twins_loss, triplet_mse_loss, contrastive_loss):
        m.grad = None
        before = fn(m, u, ids)
        before.backward()
        with torch.no_grad():
            after = fn(m - 0.05 * m.grad, u, ids)
        assert after.item() < before.item(), fn.__name__


def test_split_is_identity_disjoint_seeded_and_complete():
    names = [f"p{i:02d}" for i in range(20)]
    a = split_identities(names * 3, 7, "ds", val=0.2, test=0.3)
    assert list(a.identity) == names and a.split.value_counts().to_dict() == {
        "train": 10,
        "test": 6,
        "val": 4,
    }
    # order-free, seeded
    assert a.equals(split_identities(list(reversed(names)), 7, "ds", val=0.2, test=0.3))
    assert not a.equals(split_identities(names, 8, "ds", val=0.2, test=0.3))
    small = split_identities(["a", "b", "c"], 1, "ds", val=0.1, test=0.1)
    assert sorted(small.split) == [
        "test",
        "train",
        "val",
    ]  # val and test never empty from 3 identities
    with pytest.raises(ValueError):
        split_identities(names, 1, "ds", val=0.6, test=0.5)


def test_registry_derives_head_cards():
    card = get_card("dlib+barlow_twins")
    assert card.base == "dlib" and card.dim == REGISTRY["dlib"].dim and card.metric == "cosine"
    assert (
        card.threshold == REGISTRY["dlib"].threshold and "not calibrated" in card.threshold_source
    )
    assert (
        parse_head_id("dlib+contrastive") == ("dlib", "contrastive")
        and parse_head_id("dlib") is None
    )
    assert derived_card("rekognition+contrastive", REGISTRY) is None  # no embeddings to map
    assert head_id("dlib", "triplet_mse") == "dlib+triplet_mse"
    with pytest.raises(ValueError, match="unknown model"):
        get_card("dlib+nonsense")
    cfg = {"mitigation": {"bases": ["dlib"], "losses": ["barlow_twins", "contrastive"]}}
    assert head_models(cfg, ["dlib"]) == ["dlib+barlow_twins", "dlib+contrastive"]
    message = io.StringIO()
    # an unaudited base: a message, no heads
    assert head_models(cfg, ["facenet_cv"], out=message) == []
    assert "no mitigation heads for 'dlib'" in message.getvalue()


def test_numpy_head_matches_torch_and_starts_as_identity(tmp_path):
    torch.manual_seed(0)
    head = ResidualHead(6, 5)
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    weights = {k: v.detach().numpy() for k, v in head.arrays().items()}
    # untrained: the identity on the sphere
    assert np.allclose(forward(weights, x), unit, atol=1e-6)
    with torch.no_grad():
        head.fc2.weight.normal_()
        head.fc2.bias.normal_()
    weights = {k: v.detach().numpy() for k, v in head.arrays().items()}
    save_checkpoint(tmp_path / "h.npz", weights, {"loss": "contrastive"})
    loaded, config = load_checkpoint(tmp_path / "h.npz")
    assert config == {"loss": "contrastive"}
    with torch.no_grad():
        expected = head(torch.tensor(x)).numpy()
    assert np.allclose(forward(loaded, x), expected, atol=1e-5)
    x[1] = np.nan
    out = forward(loaded, x)
    # a failed image stays failed
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2, 3]]).all()


def synthetic_caches(tmp_path, n_ident=30, per=4, dim=16, seed=0, corruption=0.8):
    """Identity centroids + photo noise; a mask adds a fixed corruption direction and noise."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=(n_ident, dim))
    shift = rng.normal(size=dim)
    ids = [f"i{a:02d}_{k}" for a in range(n_ident) for k in range(per)]
    identity = {i: i.split("_")[0] for i in ids}
    clean = np.repeat(centre, per, axis=0) + 0.3 * rng.normal(size=(len(ids), dim))
    masked = clean + corruption * (
        shift + 0.5 * rng.normal(size=clean.shape) + clean * rng.normal(size=(1, dim))
    )
    status = ["ok"] * len(ids)
    save_cache(tmp_path / "none.npz", ids, clean.astype(np.float32), status, {})
    save_cache(tmp_path / "mask.npz", ids, masked.astype(np.float32), status, {})
    return identity


SETTINGS = {
    "hidden": 32,
    "epochs": 15,
    "batch_size": 64,
    "learning_rate": 0.01,
    "weight_decay": 1e-4,
    "barlow_twins": {"lambda": 0.005},
    "triplet_mse": {"margin": 0.2, "mse_weight": 1.0},
    "contrastive": {"margin": 0.5},
}


@pytest.mark.parametrize("loss", ["barlow_twins", "triplet_mse", "contrastive"])
def test_training_shrinks_masked_distance_on_held_out_identities(tmp_path, loss):
    identity = synthetic_caches(tmp_path)
    pairs = load_pairs(tmp_path / "none.npz", {"mask": tmp_path / "mask.npz"}, identity)
    split = split_identities(identity.values(), 3, "synthetic", val=0.2, test=0.3)
    train, val, test = (
        subset(pairs, split.identity[split.split == s]) for s in ("train", "val", "test")
    )
    weights, curve, info = train_head(train, val, loss, SETTINGS, seed=5)
    assert info["best_val_loss"] < curve.val_loss.iloc[0]  # validation loss went down
    again, curve2, _ = train_head(train, val, loss, SETTINGS, seed=5)
    # deterministic
    assert all(np.array_equal(weights[k], again[k]) for k in weights) and curve.equals(curve2)

    def ratio(m, u):  # masked-to-own-unmasked distance relative to the impostor distance (held-out)
        m = m / np.linalg.norm(m, axis=1, keepdims=True)
        u = u / np.linalg.norm(u, axis=1, keepdims=True)
        sim = m @ u.T
        other = test.identity.to_numpy()[:, None] != test.identity.to_numpy()[None, :]
        return (1 - np.diag(sim)).mean() / (1 - sim[other]).mean()

    before = ratio(test.attrs["masked"], test.attrs["unmasked"])
    after = ratio(forward(weights, test.attrs["masked"]), forward(weights, test.attrs["unmasked"]))
    assert after < 0.9 * before, (before, after)


def test_before_after_uses_eval_identities_only_and_pairs_systems(tmp_path):
    identity = synthetic_caches(tmp_path, n_ident=24, per=4)
    manifest = pd.DataFrame({"image_id": list(identity), "identity": list(identity.values())})
    manifest["gender"] = ["female" if int(i[1:3]) % 2 else "male" for i in manifest.identity]
    manifest["race"] = "unknown"
    ids, clean, status = load_cache(tmp_path / "none.npz")
    _, masked, _ = load_cache(tmp_path / "mask.npz")
    # a "head" that undoes half of the mask: the base with the masked vectors halfway to the clean ones
    (tmp_path / "head").mkdir()
    save_cache(tmp_path / "head/none.npz", ids, clean, status, {})
    save_cache(tmp_path / "head/mask.npz", ids, (clean + masked) / 2, status, {})
    systems = {
        "base": {"none": tmp_path / "none.npz", "mask": tmp_path / "mask.npz"},
        "base+contrastive": {
            "none": tmp_path / "head/none.npz",
            "mask": tmp_path / "head/mask.npz",
        },
    }
    held = sorted(set(identity.values()))[:12]
    kw = dict(
        fmr_targets=[0.1, 0.001],
        n_boot=100,
        level=0.95,
        seed=1,
        dataset="syn",
        eval_label="test identities",
        min_identities=10,
    )
    near = pd.DataFrame({"image_a": [], "image_b": []})
    # below stats.min_identities (20 by default) no value gets an interval, and the reason says why
    guarded = before_after(manifest, systems, held, near, **{**kw, "min_identities": 20})
    assert guarded[["low", "high", "change_low", "change_high"]].isna().all().all()
    assert guarded[guarded.supported].reason.str.startswith("fewer than 20 identities").all()
    table = before_after(manifest, systems, held, near, **kw)
    head = table[(table.system == "base+contrastive") & (table.measure == "reid_distance")].iloc[0]
    assert head.change < 0 and head.change_high < 0 and head.n_identities == 12
    fnmr = table[(table.measure == "fnmr") & (table.threshold == "fmr_0.1")]
    # 3 other photos per masked probe
    assert fnmr.supported.all() and (fnmr.trials == 12 * 4 * 3).all()
    assert not table[table.threshold == "fmr_0.001"].supported.any()  # 264 impostors < 10 / 0.001
    gaps = table[table.measure == "fnmr_gap"]
    assert set(gaps.group) == {"gender:male-female"} or set(gaps.group) == {"gender:female-male"}
    # identities outside the eval set change nothing, however bad their images are
    worse = masked.copy()
    worse[[k for k, i in enumerate(ids) if identity[i] not in held]] *= -1
    save_cache(tmp_path / "worse.npz", ids, worse, status, {})
    systems["base"]["mask"] = tmp_path / "worse.npz"
    again = before_after(manifest, systems, held, near, **kw)
    pd.testing.assert_frame_equal(table, again)
    assert paired_change(np.arange(10.0), np.arange(10.0), 0.95) == (0.0, 0.0)


@pytest.mark.integration
def test_demo_audit_trains_a_head_and_audits_it_beside_its_base(audit, dlib_model, hopper_rgb):
    """The demo audit (fixture; one head, dlib+contrastive, to keep CI short) trains the head from the
    split, writes its caches through the head, and audits it beside dlib: tables, before/after, privacy."""
    from workflow_support import VARIANTS, read

    split = read_split(audit / "results/mitigation/demo/split.tsv")
    test_ids = set(split.identity[split.split == "test"])
    assert set(split.split) == {"train", "val", "test"} and split.identity.is_unique
    head = "dlib+contrastive"
    curve = pd.read_csv(audit / f"results/heads/{head}/curve.tsv", sep="\t")
    config = json.loads((audit / f"results/heads/{head}/config.json").read_text())
    assert config["best_val_loss"] < curve.val_loss.iloc[0]  # the smoke run lowers validation loss
    assert config["variants"] == VARIANTS and config["train_pairs"] > 0 and config["val_pairs"] > 0
    weights, saved_config = load_checkpoint(audit / f"results/heads/{head}/checkpoint.npz")
    assert saved_config == config
    for variant in ["none", *VARIANTS]:
        base_ids, base_vec, base_status = load_cache(
            audit / f"results/embeddings/dlib/demo/{variant}.npz"
        )
        ids, vec, status = load_cache(audit / f"results/embeddings/{head}/demo/{variant}.npz")
        assert ids == base_ids and status == base_status  # failures stay failures, same rows
        assert np.array_equal(vec, forward(weights, base_vec), equal_nan=True)
    sidecar = json.loads((audit / f"results/embeddings/{head}/demo/none.json").read_text())
    assert sidecar["base_model"] == "dlib" and sidecar["head"]["loss"] == "contrastive"
    # the head as a registry model: dlib's embedding of a real face, through the head
    from maskaudit.mitigation.head import HeadedModel

    model = HeadedModel(get_card(head), checkpoint=audit / f"results/heads/{head}/checkpoint.npz")
    crops = [np.asarray(hopper_rgb[100:400, 150:450])]
    assert np.allclose(
        model.represent(crops), forward(weights, dlib_model.represent(crops)), atol=1e-6
    )
    # audited like any system; the before/after view reads test identities only
    assert set(read(audit, "overall").model) == {"dlib", head}
    assert set(read(audit, "thresholds").model) == {"dlib", head}
    table = read(audit, "before_after")
    assert list(dict.fromkeys(table.system)) == ["dlib", head]
    assert (table.eval_identities == "test identities").all() and set(table.variant) == set(
        VARIANTS
    )
    assert table.n_identities.max() <= len(test_ids)
    reid = table[table.measure == "reid_distance"]
    assert reid.supported.all() and reid[reid.system == head].change.notna().all()
    assert (audit / "results/figures/before_after/dlib.demo.png").stat().st_size > 10_000
    assert (audit / "results/figures/training_curves/demo.png").stat().st_size > 10_000
    privacy = read(audit, "privacy")
    assert set(privacy.system) == {"dlib", head}
    assert {("none", "none"), ("none", "surgical-blue"), ("surgical-blue", "surgical-blue")} <= set(
        zip(privacy.train_variant, privacy.test_variant)
    )
    assert set(privacy[privacy.labels == "shuffled"].train_variant) == {"none"}
    # deterministic: retraining from the demo caches gives the workflow's checkpoint bit for bit
    manifest = pd.read_csv(
        audit / "results/datasets/demo/manifest.tsv", sep="\t", keep_default_na=False
    )
    emb = audit / "results/embeddings/dlib/demo"
    pairs = load_pairs(
        emb / "none.npz",
        {v: emb / f"{v}.npz" for v in VARIANTS},
        dict(zip(manifest.image_id, manifest.identity)),
    )
    train, val = (subset(pairs, split.identity[split.split == s]) for s in ("train", "val"))
    again, _, _ = train_head(train, val, "contrastive", config["settings"], seed=config["seed"])
    assert all(np.array_equal(again[k], weights[k]) for k in weights)


@pytest.mark.integration
@pytest.mark.parametrize("loss", ["barlow_twins", "triplet_mse"])
def test_other_losses_lower_validation_loss_on_the_demo_caches(audit, loss):
    """The demo config's settings for the losses the fixture does not train, on its real dlib caches."""
    import yaml
    from conftest import REPO
    from workflow_support import VARIANTS

    from maskaudit.config import load_schema, validate_config

    cfg = validate_config(
        yaml.safe_load((REPO / "config/config.yaml").read_text()),
        load_schema(REPO / "workflow/schemas/config.schema.yaml"),
    )["mitigation"]
    settings = {
        **{k: cfg[k] for k in ("hidden", "epochs", "batch_size", "learning_rate", "weight_decay")},
        loss: cfg[loss],
    }
    split = read_split(audit / "results/mitigation/demo/split.tsv")
    manifest = pd.read_csv(
        audit / "results/datasets/demo/manifest.tsv", sep="\t", keep_default_na=False
    )
    emb = audit / "results/embeddings/dlib/demo"
    pairs = load_pairs(
        emb / "none.npz",
        {v: emb / f"{v}.npz" for v in VARIANTS},
        dict(zip(manifest.image_id, manifest.identity)),
    )
    train, val = (subset(pairs, split.identity[split.split == s]) for s in ("train", "val"))
    weights, curve, info = train_head(train, val, loss, settings, seed=20240221)
    assert info["best_epoch"] > 0 and info["best_val_loss"] < curve.val_loss.iloc[0]
    again, _, _ = train_head(train, val, loss, settings, seed=20240221)
    assert all(np.array_equal(again[k], weights[k]) for k in weights)
