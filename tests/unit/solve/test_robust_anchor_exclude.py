"""Unit tests of the robust solve, anchors and exclusions (issue 19)."""


import numpy as np
import pytest
from astropy.io import fits

from helpers.config import schema_defaults
from helpers.images import tan_wcs, write_image
from helpers.paths import REPO
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.jobs.config import ConfigError, check_config
from skymatchflow.solve.anchors import anchor_elements, anchored_shift, check_anchor_names
from skymatchflow.solve.robust import robust_deltas
from skymatchflow.solve.skymatch import Element, Equation, match_deltas
from skymatchflow.stages.solve_sky import solve_tables
from skymatchflow.stats.exclusions import excluded_pixels, exclusion_params

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def grid_equations(truth, spoiled=None, bias=0.0, noise=None):
    """Pairs of a 3x3 grid (right and down neighbours); one pair shifted by ``bias``."""
    side = 3
    equations = []
    for k in range(side * side):
        r, c = divmod(k, side)
        for j in ([k + 1] if c + 1 < side else []) + ([k + side] if r + 1 < side else []):
            f = truth[k] - truth[j] + (bias if (k, j) == spoiled else 0.0)
            equations.append(Equation(k, j, f, 0.0, 1000, 1000, noise, f"p{k}-{j}"))
    return equations


@pytest.mark.parametrize("loss", ["huber", "tukey"])
def test_robust_solve_down_weights_the_pair_that_breaks_its_cycles(loss):
    truth = np.linspace(0.0, 0.8, 9)
    equations = grid_equations(truth, spoiled=(4, 5), bias=0.5, noise=0.001)
    plain, _ = match_deltas(9, equations)
    robust, rank, extra = robust_deltas(9, equations, loss)
    error = lambda d: np.ptp((d - d.mean()) - (truth - truth.mean()))  # noqa: E731
    assert rank == 8
    assert error(plain) > 0.1
    assert error(robust) < (0.05 if loss == "huber" else 0.002)
    weights = dict(zip([e.pair for e in equations], extra["weights"]))
    assert weights["p4-5"] == min(weights.values()) and weights["p4-5"] < 0.1
    assert sorted(weights.values())[1] > 0.5


def test_robust_solve_keeps_consistent_pairs_at_full_weight():
    truth = np.arange(9.0)
    deltas, _, extra = robust_deltas(9, grid_equations(truth, noise=0.01))
    assert np.allclose(deltas - deltas.mean(), truth - truth.mean())
    assert np.allclose(extra["weights"], 1.0)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="robust_loss"):
        robust_deltas(2, [Equation(0, 1, 1.0, 0.0, 10, 10)], "cauchy")


def test_anchor_holds_its_island_and_others_keep_match_down():
    elements = [Element("g0", ["a"]), Element("g1", ["b"]), Element("g2", ["c"]), Element("g3", ["d"])]
    anchors = anchor_elements({"b": 10.0}, elements)  # an image id names its group
    shift = anchored_shift(anchors, match_down=True)
    deltas = shift(np.array([-1.0, 1.0, 3.0, 5.0]), np.array([0, 0, 1, 1]))
    assert deltas.tolist() == [8.0, 10.0, 0.0, 2.0]
    with pytest.raises(InputError, match="anchor"):
        anchor_elements({"zz": 1.0}, elements)


def test_anchor_names_are_checked_before_any_job_when_the_groups_are_known():
    def spec(image, group=""):
        return ImageSpec(image, f"/data/{image}_cal.fits", "SCI", "", "", group)

    images = {"a_cal": spec("a_cal"), "b_cal": spec("b_cal", group="field1")}
    for grouping in ("none", "exposure", "FILTER"):
        check_anchor_names({"a_cal": 1.0, "field1": 2.0}, images, grouping)  # an image id, a sheet group
    check_anchor_names({"jw01234001001_02101_00001": 0.0}, images, "exposure")  # a JWST exposure id
    check_anchor_names({"F200W": 0.0}, images, "FILTER")  # keyword values: only the solve job knows them
    for grouping in ("none", "exposure"):
        with pytest.raises(InputError, match="config key 'anchor': 'a' is neither an image id nor a sky group id"):
            check_anchor_names({"a": 1.0}, images, grouping)
    # every image in an explicit group: the group ids are all known, whatever the rule
    grouped = {"a_cal": spec("a_cal", "g1"), "b_cal": spec("b_cal", "g2")}
    with pytest.raises(InputError, match="'F200W'"):
        check_anchor_names({"F200W": 0.0}, grouped, "FILTER")


def footprints_and_pairs():
    footprints = [
        {"image": name, "file": f"{name}.fits", "sci": "SCI", "group": name,
         "background": {"level": None, "subtracted": None}}
        for name in ("a", "b", "c")
    ]
    skies = [{"image": r["image"], "sky": 1.0, "npix": 100} for r in footprints]
    pairs = [
        {"pair": "a~b", "group_a": "a", "group_b": "b", "valid": True, "reason": None,
         "a": {"sky": 1.0, "npix": 100}, "b": {"sky": 2.0, "npix": 100}},
        {"pair": "b~c", "group_a": "b", "group_b": "c", "valid": True, "reason": None,
         "a": {"sky": 2.0, "npix": 100}, "b": {"sky": 4.0, "npix": 100}},
    ]
    return footprints, skies, pairs


def test_default_options_solve_exactly_as_the_reference():
    footprints, skies, pairs = footprints_and_pairs()
    sky0, table0 = solve_tables(footprints, skies, pairs, "match", True, False)
    sky1, table1 = solve_tables(footprints, skies, pairs, "match", True, False,
                                {"match_weights": "reference", "robust_loss": "huber", "anchor": None})
    assert list(sky0["sky"]) == list(sky1["sky"]) == [0.0, 1.0, 3.0]
    assert table0.colnames == table1.colnames and "weight" not in table1.colnames


def test_robust_and_anchor_options_in_the_tables():
    footprints, skies, pairs = footprints_and_pairs()
    sky, table = solve_tables(footprints, skies, pairs, "match", True, False,
                              {"match_weights": "robust", "robust_loss": "huber", "anchor": {"c": 100.0}})
    assert np.allclose(sky["sky"], [97.0, 98.0, 100.0])
    assert np.allclose(table["weight"], 1.0)


def test_region_file_and_mask_file_remove_pixels(tmp_path):
    wcs = tan_wcs((60, 60), scale_arcsec=1.0)
    image = write_image(tmp_path / "img_cal.fits", shape=(60, 60), wcs=wcs)
    ra, dec = wcs.all_pix2world([[30.0, 30.0]], 0)[0]
    region = tmp_path / "art.reg"
    region.write_text(f'fk5\ncircle({ra:.8f},{dec:.8f},5.0")\n')
    mask = np.zeros((60, 60), np.uint8)
    mask[0, :10] = 1
    fits.writeto(tmp_path / "m.fits", mask)
    config = {"exclude": {"regions": [str(region)], "masks": {"img_cal.fits": str(tmp_path / "m.fits")}}}
    params = exclusion_params(config)
    spec = ImageSpec("img", str(image), "SCI")
    out = excluded_pixels(spec, (60, 60), wcs, params)
    assert out[30, 30] and out[30, 34] and not out[30, 36]
    assert 70 < np.count_nonzero(out[1:]) < 90  # a 5 px radius disk (pi r^2 ~ 79)
    assert out[0, :10].all()
    fits.writeto(tmp_path / "bad.fits", np.zeros((5, 5), np.uint8))
    bad = exclusion_params({"exclude": {"masks": {"img_cal.fits": str(tmp_path / "bad.fits")}}})
    with pytest.raises(InputError, match="shape"):
        excluded_pixels(spec, (60, 60), wcs, bad)


def test_missing_or_unknown_exclusion_file_stops_the_config_check(tmp_path):
    base = schema_defaults(SCHEMA) | {"images": ["x.fits"]}
    with pytest.raises(ConfigError, match="exclude.regions.*no such file"):
        check_config(base | {"exclude": {"regions": [str(tmp_path / "none.reg")]}}, SCHEMA)
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(ConfigError, match="exclude.regions.*DS9"):
        check_config(base | {"exclude": {"regions": [str(tmp_path / "a.txt")]}}, SCHEMA)
    with pytest.raises(ConfigError, match="pair_statistic"):
        check_config(base | {"pair_statistic": "pixels"}, SCHEMA)
    with pytest.raises(ConfigError, match="robust_loss"):
        check_config(base | {"robust_loss": "l1"}, SCHEMA)
