"""Config validation: every problem names its key and the fix."""

import copy

import pytest
import yaml
from conftest import REPO

from maskaudit.config import (
    VOCABULARIES,
    ConfigError,
    documented_names,
    load_schema,
    validate_config,
    vocabulary,
    vocabulary_markdown,
)

SCHEMA = load_schema(REPO / "workflow/schemas/config.schema.yaml")
SHIPPED = yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_shipped_config_is_valid_and_defaults_are_filled():
    cfg = copy.deepcopy(SHIPPED)
    del cfg["protocol"], cfg["stats"]
    out = validate_config(cfg, SCHEMA)
    assert out["protocol"]["include_self"] is False and out["protocol"]["fmr_targets"] == [
        0.01,
        0.001,
        0.0001,
    ]
    assert out["stats"]["bootstrap"] == 1000 and out["stats"]["alpha"] == 0.05
    assert out["masks"]["variants"]["n95-white"]["coverage"] == "high"


def test_misspelt_key_is_named_with_a_suggestion():
    cfg = copy.deepcopy(SHIPPED)
    cfg["protocol"]["include_selfs"] = cfg["protocol"].pop("include_self")
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    assert "config key 'protocol.include_selfs' is not recognised" in str(err.value)
    assert "did you mean 'include_self'?" in str(err.value)
    cfg = copy.deepcopy(SHIPPED)
    cfg["protocol"]["fmr_targets"] = [0.01, 2]
    with pytest.raises(ConfigError, match="config key 'protocol.fmr_targets.1'"):
        validate_config(cfg, SCHEMA)


def test_wrong_values_and_references():
    cfg = copy.deepcopy(SHIPPED)
    cfg["masks"]["variants"]["n95-white"]["kind"] = "bandana"
    cfg["masks"]["colours"]["blue"] = "blue"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    msg = str(err.value)
    assert "config key 'masks.variants.n95-white.kind': unknown mask kind 'bandana'" in msg
    assert "config key 'masks.colours.blue'" in msg
    cfg = copy.deepcopy(SHIPPED)
    cfg["masks"]["variants"]["n95-white"]["colour"] = "teal"
    with pytest.raises(ConfigError, match="'masks.variants.n95-white.colour' names 'teal'"):
        validate_config(cfg, SCHEMA)


def test_reserved_variant_name_and_unknown_model():
    cfg = copy.deepcopy(SHIPPED)
    cfg["masks"]["variants"]["none"] = {"kind": "n95", "colour": "blue"}
    cfg["models"] = ["dlib", "vgg-face"]
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    assert "config key 'masks.variants' has a reserved name 'none'" in str(err.value)
    assert (
        "config key 'models.1': unknown model 'vgg-face' in models.1; did you mean 'vgg_face'?"
        in str(err.value)
    )


def _schema_lists(node, path=""):
    """Every ``enum`` of the schema that lists names a vocabulary owns (there must be none)."""
    owned = {n for v in VOCABULARIES for n in vocabulary(v)}
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and owned & set(map(str, node["enum"])):
            yield path
        for key, sub in node.items():
            yield from _schema_lists(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _schema_lists(sub, f"{path}/{i}")


def test_the_schema_lists_no_vocabulary_and_names_each_owner():
    assert list(_schema_lists(SCHEMA)) == []
    text = (REPO / "workflow/schemas/config.schema.yaml").read_text()
    for vocab in (
        "system",
        "mask_kind",
        "texture",
        "coverage",
        "alignment",
        "detector",
        "normalization",
        "adapter",
    ):
        assert f"vocabulary: {vocab}" in text


# Where each vocabulary's names are used in a config: an edit that puts ``name`` there.
PLACES = {
    "system": lambda c, name: c.update(models=[name]),
    "vendor": lambda c, name: c.setdefault("vendors", {}).update({name: {"max_calls": 0}}),
    "mask_kind": lambda c, name: c["masks"]["variants"]["n95-white"].update(kind=name),
    "texture": lambda c, name: c["masks"]["variants"]["n95-white"].update(texture=[name]),
    "coverage": lambda c, name: c["masks"].update(
        grid={"kinds": ["n95"], "colours": ["blue"], "coverages": [name]}
    ),
    "alignment": lambda c, name: c["embedding"].update(alignment=name),
    "detector": lambda c, name: c["embedding"].update(overrides={"dlib": {"detector": name}}),
    "normalization": lambda c, name: c["embedding"].update(
        overrides={"dlib": {"normalization": name}}
    ),
    "adapter": lambda c, name: c["datasets"].update(extra={"builder": "adapter", "adapter": name}),
}


def test_every_accepted_name_is_documented_and_every_documented_name_accepted():
    """config/README.md's Names table is the one documented place: it lists exactly what the code accepts."""
    from maskaudit.datasets.adapters import get_adapter
    from maskaudit.masks import MaskSpec
    from maskaudit.models import get_card, load_model

    table = documented_names((REPO / "config/README.md").read_text())
    assert table == vocabulary_markdown(), "regenerate it: python -m maskaudit.config --names"
    rows = {
        line.split(" | ")[0].lstrip("| "): line.split(" | ")[2] for line in table.splitlines()[2:]
    }
    assert set(rows) == {noun for noun, _, _ in VOCABULARIES.values()} and set(PLACES) == set(
        VOCABULARIES
    )
    for vocab, (noun, _, _) in VOCABULARIES.items():
        documented = [n.strip().strip("`") for n in rows[noun].rstrip(" |").split(",")]
        assert documented == list(vocabulary(vocab))
        for name in documented:  # each documented name passes validation where the config uses it
            cfg = copy.deepcopy(SHIPPED)
            PLACES[vocab](cfg, name)
            validate_config(cfg, SCHEMA)
        bad = copy.deepcopy(SHIPPED)  # and a name it does not document fails there
        PLACES[vocab](bad, documented[0] + "x")
        with pytest.raises(ConfigError, match=f"unknown {noun} '{documented[0]}x'"):
            validate_config(bad, SCHEMA)
    # the code that uses the names takes every documented one (and only those)
    for kind in vocabulary("mask_kind"):
        MaskSpec(kind, (10, 20, 30))
    for texture in vocabulary("texture"):
        MaskSpec("cloth", (10, 20, 30), texture=texture)
    for coverage in vocabulary("coverage"):
        MaskSpec("cloth", (10, 20, 30), coverage)
    with pytest.raises(ValueError):
        MaskSpec("bandana", (10, 20, 30))
    for name in vocabulary("system"):
        assert get_card(name).id == name
    for name in vocabulary("adapter"):
        assert get_adapter(name).name == name
    with pytest.raises(ValueError, match="alignment must be one of"):
        load_model("dlib", alignment="sideways")


@pytest.mark.parametrize(
    "edit,key,says",
    [
        (
            lambda c: c.update(models=["arcfase"]),
            "models.0",
            "unknown model 'arcfase' in models.0; did you mean 'arcface'?",
        ),
        (
            lambda c: c["masks"]["variants"]["n95-white"].update(kind=["n95", "surgicl"]),
            "masks.variants.n95-white.kind.1",
            "unknown mask kind 'surgicl' in masks.variants.n95-white.kind.1; did you mean 'surgical'?",
        ),
        (
            lambda c: c["masks"]["variants"]["n95-white"].update(texture="dot"),
            "masks.variants.n95-white.texture",
            "unknown texture 'dot'",
        ),
        (
            lambda c: c["masks"]["variants"]["n95-white"].update(coverage="hihg"),
            "masks.variants.n95-white.coverage",
            "did you mean 'high'?",
        ),
        (
            lambda c: c["masks"].update(grid={"kinds": ["clothe"], "colours": ["blue"]}),
            "masks.grid.kinds.0",
            "did you mean 'cloth'?",
        ),
        (
            lambda c: c["embedding"].update(alignment="end2end"),
            "embedding.alignment",
            "did you mean 'end_to_end'?",
        ),
        (
            lambda c: c["embedding"].update(overrides={"vgg_fase": {"align": False}}),
            "embedding.overrides",
            "unknown model 'vgg_fase' in embedding.overrides; did you mean 'vgg_face'?",
        ),
        (
            lambda c: c["embedding"].update(overrides={"dlib": {"detector": "retina"}}),
            "embedding.overrides.dlib.detector",
            "did you mean 'retinaface'?",
        ),
        (
            lambda c: c["embedding"].update(overrides={"dlib": {"normalization": "facenet"}}),
            "embedding.overrides.dlib.normalization",
            "did you mean 'Facenet'?",
        ),
        (
            lambda c: c["datasets"].update(extra={"builder": "adapter", "adapter": "utk_face"}),
            "datasets.extra.adapter",
            "did you mean 'utkface'?",
        ),
        (
            lambda c: c["vendors"].update(rekognitoin={}),
            "vendors.rekognitoin",
            "did you mean 'rekognition'?",
        ),
    ],
)
def test_unknown_names_are_checked_against_their_owner_with_a_suggestion(edit, key, says):
    cfg = copy.deepcopy(SHIPPED)
    cfg.setdefault("vendors", {})
    edit(cfg)
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    assert f"config key '{key}': " in str(err.value)
    assert says in str(err.value)
    assert "(config/README.md, Names)" in str(err.value)


def test_a_vendor_without_its_own_block_gets_the_common_settings():
    cfg = copy.deepcopy(SHIPPED)
    cfg["models"] = ["dlib", "facex"]
    cfg.pop("vendors", None)
    out = validate_config(cfg, SCHEMA)
    assert (
        out["vendors"]["facex"]["rate_per_s"] == 1
        and out["vendors"]["facex"]["identification"] == "search"
    )
