"""Config validation: wrong values stop the run with one line naming the key."""

import copy
import os
import re
import subprocess
import sys

import pytest
import yaml
from snakemake.utils import validate

from helpers.paths import REPO
from skymatchflow.jobs.config import ConfigError, check_config

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def with_changes(**changes):
    config = copy.deepcopy(SHIPPED)
    config.update(changes)
    return config


def test_shipped_config_is_valid():
    check_config(SHIPPED, SCHEMA)


JWST3 = yaml.safe_load((REPO / "config" / "jwst3.yaml").read_text())


def test_jwst3_config_holds_the_installed_jwst_3_step_defaults():
    """config/jwst3.yaml is SkyMatchStep's defaults in jwst 3.0.0 (the test-only oracle), key for key."""
    import jwst
    from jwst.skymatch import SkyMatchStep

    assert jwst.__version__ == "3.0.0"
    step = SkyMatchStep()
    step_keys = set(re.findall(r"^\s*(\w+)\s*=", step.spec, re.MULTILINE))
    assert set(JWST3) == step_keys - {"in_memory"}  # the step's only parameter the workflow has no use for
    assert JWST3 == {key: getattr(step, key) for key in JWST3}
    # the two defaults jwst 3.0 changed, which the shipped config keeps as first documented
    assert (JWST3["skymethod"], JWST3["dqbits"]) == ("match", "~DO_NOT_USE+NON_SCIENCE")
    assert (SHIPPED["skymethod"], SHIPPED["dqbits"]) == ("global+match", 0)


def test_jwst3_config_over_the_shipped_one_is_valid():
    check_config(SHIPPED | JWST3, SCHEMA)


def test_defaults_are_the_step_defaults():
    config = {"images": ["a.fits"]}
    validate(config, str(SCHEMA))
    assert config == {
        "images": ["a.fits"],
        "image_sheet": None,
        "associations": None,
        "wcs": "auto",
        "groups": "exposure",
        "skymethod": "global+match",
        "skylist": None,
        "match_down": True,
        "subtract": False,
        "stepsize": None,
        "skystat": "mode",
        "dqbits": 0,
        "lower": None,
        "upper": None,
        "nclip": 5,
        "lsigma": 4.0,
        "usigma": 4.0,
        "binwidth": 0.1,
        "pair_statistic": "reference",
        "sky_model": "constant",
        "match_weights": "reference",
        "robust_loss": "huber",
        "anchor": None,
        "exclude": None,
        "on_bad_input": "stop",
        "image_batches": "auto",
        "pair_batches": "auto",
        "demo": {"seed": 20261123, "detector_size": 1024},
    }


@pytest.mark.parametrize(
    "changes, pattern",
    [
        ({"lsigma": 0}, r"config key 'lsigma': 0 is less than or equal to the minimum of 0; allowed: .*every statistic fail"),
        ({"usigma": 0.0}, r"config key 'usigma'"),
        ({"binwidth": 0}, r"config key 'binwidth'"),
        ({"stepsize": 0}, r"config key 'stepsize'.*positive integer"),
        ({"stepsize": 2.5}, r"config key 'stepsize'"),
        ({"nclip": -1}, r"config key 'nclip'.*from 0 to 100"),
        ({"nclip": 1_000_000_000}, r"config key 'nclip': 1000000000 is greater than the maximum of 100; allowed: .*settles"),
        ({"lower": float("nan")}, r"config key 'lower': nan is not a finite number"),
        ({"upper": float("-inf")}, r"config key 'upper': -inf is not a finite number"),
        ({"lsigma": float("inf")}, r"config key 'lsigma': inf is not a finite number"),
        ({"usigma": float("nan")}, r"config key 'usigma': nan is not a finite number"),
        ({"binwidth": float("inf")}, r"config key 'binwidth': inf is not a finite number"),
        ({"lower": float("nan"), "upper": 1.0}, r"config key 'lower': nan"),
        ({"demo": {"seed": -1}}, r"config key 'demo.seed'"),
        ({"demo": {"detector_size": 100000}}, r"config key 'demo.detector_size'"),
        ({"skymethod": "median"}, r"config key 'skymethod'.*local, global, match, global\+match, user"),
        ({"skymethod": "user"}, r"config key 'skylist': skymethod 'user' needs a skylist"),
        ({"skystat": "average"}, r"config key 'skystat'"),
        ({"match_down": "yes"}, r"config key 'match_down'"),
        ({"dqbits": 1.5}, r"config key 'dqbits'"),
        ({"dqbits": "DO_NOT_USE+BOGUS"}, r"config key 'dqbits'.*BOGUS"),
        ({"lower": "low"}, r"config key 'lower'"),
        ({"lower": 5.0, "upper": 1.0}, r"'lower'/'upper'.*above upper"),
        ({"groups": "by-file"}, r"config key 'groups'"),
        ({"images": []}, r"none is set; give one of them"),
        ({"image_sheet": "images.tsv"}, r"exactly one"),
        ({"associations": ["a_asn.json"]}, r"exactly one"),
        ({"associations": "a_asn.json"}, r"config key 'associations'"),
        ({"wcs": "gwcs"}, r"config key 'wcs'.*auto.*fits"),
        ({"skymetod": "match"}, r"config: .*'skymetod' was unexpected.*did you mean 'skymethod'\?.*allowed keys"),
        ({"demo": {"size": 3}}, r"config key 'demo'"),
        ({"image_batches": 0}, r"config key 'image_batches'.*'auto'.*integer of at least 1"),
        ({"pair_batches": "many"}, r"config key 'pair_batches'.*'auto'.*integer of at least 1"),
    ],
)
def test_bad_values_name_the_key(changes, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        check_config(with_changes(**changes), SCHEMA)
    assert "\n" not in str(info.value)


def test_a_key_far_from_every_known_key_gets_no_guess():
    with pytest.raises(ConfigError, match="'colour' was unexpected") as info:
        check_config(with_changes(colour="red"), SCHEMA)
    assert "did you mean" not in str(info.value)


def test_an_input_key_from_the_shipped_config_is_named_as_such():
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    with pytest.raises(ConfigError) as info:
        check_config(with_changes(image_sheet="images.tsv"), SCHEMA, shipped)
    message = str(info.value)
    assert "you set 'image_sheet'" in message and "'images' comes from the shipped config/config.yaml" in message
    assert "images: null" in message and "\n" not in message


def test_sheet_users_may_set_images_null():
    """The README tells sheet users to set ``images: null`` over the shipped list."""
    check_config(with_changes(images=None, image_sheet="images.tsv"), SCHEMA)


@pytest.mark.parametrize("dqbits", [0, 4, "~DO_NOT_USE+NON_SCIENCE", None, "JUMP_DET"])
def test_good_dqbits_accepted(dqbits):
    check_config(with_changes(dqbits=dqbits), SCHEMA)


def test_integer_dqbits_are_checked_without_importing_the_bitmask_parser():
    """Every Snakemake start runs check_config; astropy.nddata would add ~0.6 s to each."""
    code = (
        "import sys; from skymatchflow.jobs.config import check_config; from helpers.config import schema_defaults; "
        f"schema = {str(SCHEMA)!r}; "
        "check_config(dict(schema_defaults(schema), images=['x.fits'], dqbits=4), schema); "
        "print('astropy.nddata' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": f"{REPO / 'scripts'}:{REPO / 'tests'}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
