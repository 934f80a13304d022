"""Hostile input, class *config*: every bad value stops the run before any job, naming the key.

Expected outcome of each case: :class:`ConfigError` whose message names the key and the fix. (A
config whose every system is skipped, and colours checked like the CLI's, are in
test_hostile_vendors.py and test_hostile_cli_outputs.py.)
"""

import pytest
import yaml
from conftest import REPO

from maskaudit.config import ConfigError, load_schema, validate_config


def config(edit):
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    edit(cfg)
    return cfg


@pytest.mark.parametrize(
    "edit,says",
    [
        (
            lambda c: c["masks"].update(grid={"kinds": ["n95"], "colours": ["##12345"]}),
            "masks.grid.colours",
        ),
        (
            lambda c: c["masks"].update(grid={"kinds": ["N95"], "colours": ["blue"]}),
            "masks.grid.kinds",
        ),
        (lambda c: c["masks"]["colours"].update(teal="#+F+F+F"), "masks.colours"),
        (lambda c: c.update(modles=["dlib"]), "modles"),
        (
            lambda c: c.update(models=["dlib", "arcfase"]),
            "unknown model 'arcfase' in models.1; did you mean 'arcface'?",
        ),
        (
            lambda c: c["masks"].update(
                grid={"kinds": ["n95"], "colours": ["blue"], "textures": ["flora"]}
            ),
            "config key 'masks.grid.textures.0': unknown texture 'flora'",
        ),
    ],
)
def test_bad_values_stop_the_run_naming_the_key(edit, says):
    with pytest.raises(ConfigError) as err:
        validate_config(config(edit), load_schema(REPO / "workflow/schemas/config.schema.yaml"))
    assert says in str(err.value)
