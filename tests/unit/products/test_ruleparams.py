"""One builder per parameter set: the image batches' spec and the other rules' made_from agree on every key."""

import pytest
import yaml
from snakemake.utils import validate

from helpers.paths import REPO
from skymatchflow.geometry import skywcs
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.products import ruleparams
from skymatchflow.products.images import product_keys

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
validate(SHIPPED, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))  # fills in the defaults
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
IMAGES = {f"img{k}": ImageSpec(f"img{k}", f"data/img{k}.fits", "SCI", "DQ") for k in range(3)}


def test_the_wcs_mode_default_is_the_schemas():
    assert ruleparams.WCS_MODE_DEFAULT == SCHEMA["properties"]["wcs"]["default"]
    config = {key: value for key, value in SHIPPED.items() if key != "wcs"}
    assert ruleparams.wcs_mode(config) == ruleparams.WCS_MODE_DEFAULT
    assert ruleparams.wcs_policy(dict(SHIPPED, wcs="fits")) == "fits"
    assert ruleparams.wcs_policy(dict(SHIPPED, wcs="auto")) == skywcs.wcs_policy("auto")[0]


def test_a_footprint_record_without_wcs_went_through_the_fits_header():
    assert ruleparams.wcs_used({}) == "fits"
    assert ruleparams.wcs_used({"wcs": "gwcs"}) == "gwcs"


@pytest.mark.parametrize("changes", [{}, {"wcs": "fits"}, {"skystat": "median", "stepsize": 8}, {"dqbits": 4}])
@pytest.mark.parametrize("n_images", [3, 1000])
def test_the_image_batches_and_the_later_rules_compute_the_same_product_keys(changes, n_images):
    config = dict(SHIPPED, **changes)
    settings = ruleparams.image_settings(config, n_images)
    batch = ruleparams.image_batch_params(IMAGES, config, settings)
    made_from = ruleparams.made_from_params(IMAGES, settings)
    assert batch["images"] == made_from["images"]
    assert batch["wcs"] == made_from["wcs"] == ruleparams.wcs_policy(config)
    states = {"image": {"path": "data/img0.fits", "sha256": "0" * 64}}
    params = made_from["images"]["img0"]
    assert product_keys(params, batch, states) == product_keys(params, made_from, states)
    other = ruleparams.made_from_params(IMAGES, ruleparams.image_settings(dict(config, dqbits=config["dqbits"] + 1)))
    assert product_keys(params, other, states)["mask"] != product_keys(params, made_from, states)["mask"]


def test_the_solve_takes_no_pair_batch_count_the_plans_decide_it():
    made_from = ruleparams.made_from_params(IMAGES, ruleparams.image_settings(SHIPPED))
    assert "pair_batches" not in ruleparams.solve_params(SHIPPED, made_from, "code")
    graph = ruleparams.graph_params(SHIPPED, made_from, {"img0": "b000"}, "code")
    assert graph["pair_batches"] == SHIPPED["pair_batches"] and graph["pair_batch_of"] == {"img0": "b000"}
    assert ruleparams.audit_params(SHIPPED, made_from, "audit")["code"] == "audit"
