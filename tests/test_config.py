"""Config validation: every problem names its key and the fix."""

import copy

import pytest
import yaml

from conftest import REPO
from maskaudit.config import ConfigError, load_schema, validate_config

SCHEMA = load_schema(REPO / "workflow/schemas/config.schema.yaml")
SHIPPED = yaml.safe_load((REPO / "config/config.yaml").read_text())


def test_shipped_config_is_valid_and_defaults_are_filled():
    cfg = copy.deepcopy(SHIPPED)
    del cfg["protocol"], cfg["stats"]
    out = validate_config(cfg, SCHEMA)
    assert out["protocol"]["include_self"] is False and out["protocol"]["fmr_targets"] == [0.01, 0.001, 0.0001]
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
    assert "config key 'masks.variants.n95-white.kind': 'bandana' is not valid" in msg
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
    assert "config key 'models.1'" in str(err.value)
