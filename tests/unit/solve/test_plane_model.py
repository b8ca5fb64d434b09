"""``sky_model: plane`` around the solve: config checks, pair keys, the cells of differences, the solve stage."""

import copy

import numpy as np
import pytest
import yaml

from helpers.paths import REPO
from skymatchflow.jobs.config import ConfigError, check_config, match_options, pair_options
from skymatchflow.solve.plane_model import reference_point, tangent_offsets
from skymatchflow.stages.solve_sky import solve_tables
from skymatchflow.stats._planesamples import cell_means

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
PLANE = {"sky_model": "plane", "skymethod": "match", "pair_statistic": "difference"}


def config(**changes):
    return copy.deepcopy(SHIPPED) | changes


def test_plane_config_is_accepted_and_the_default_adds_nothing_to_the_pair_key():
    check_config(config(**PLANE), SCHEMA)
    assert "sky_model" not in pair_options(config())  # the defaults' pair keys stay what they were
    assert pair_options(config(**PLANE)) == {"pair_statistic": "difference", "sky_model": "plane"}
    assert match_options(config())["sky_model"] == "constant"


@pytest.mark.parametrize(
    "changes, pattern",
    [
        ({"skymethod": "global+match"}, r"config key 'sky_model': plane needs skymethod match, not 'global\+match'"),
        ({"skymethod": "local"}, r"config key 'sky_model': plane needs skymethod match"),
        ({"pair_statistic": "reference"}, r"config key 'sky_model': plane needs pair_statistic difference"),
        ({"sky_model": "quadric"}, r"config key 'sky_model'.*'constant' .*'plane'"),
    ],
)
def test_combinations_the_plane_cannot_serve_are_refused_in_one_line(changes, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        check_config(config(**(PLANE | changes)), SCHEMA)
    assert "\n" not in str(info.value)


def test_cells_hold_exact_means_and_a_plane_fitted_to_them_is_the_pixels_plane():
    rng = np.random.default_rng(3)
    rows, columns = rng.uniform(0, 200, 20000), rng.uniform(50, 90, 20000)
    d = 0.3 + 0.01 * columns - 0.004 * rows + rng.normal(0, 0.05, rows.size)
    n, mean_rows, mean_columns, mean_d = cell_means(rows, columns, d, cells=8)
    assert n.sum() == rows.size and len(n) <= 64
    assert np.isclose(np.sum(n * mean_d), d.sum()) and np.isclose(np.sum(n * mean_columns), columns.sum())

    def fit(x, y, values, weights):
        phi = np.stack([np.ones_like(x), x, y], axis=1) * np.sqrt(weights)[:, None]
        return np.linalg.lstsq(phi, values * np.sqrt(weights), rcond=None)[0]

    pixels = fit(columns, rows, d, np.ones(d.size))
    cells = fit(mean_columns, mean_rows, mean_d, n.astype(float))
    assert np.allclose(cells, pixels, rtol=0, atol=[2e-3, 2e-5, 2e-5])


def test_tangent_offsets_are_degrees_east_and_north_of_the_reference_point():
    x, y = tangent_offsets([150.0, 150.0 + 0.1 / np.cos(np.radians(2.0)), 150.0], [2.0, 2.0, 2.1], 150.0, 2.0)
    # a parallel is not a straight line on the gnomonic plane: 3e-6 deg off at 0.1 deg
    assert np.allclose(x, [0.0, 0.1, 0.0], atol=1e-5) and np.allclose(y, [0.0, 0.0, 0.1], atol=1e-5)


def plane_records(planes, rng, noise=0.01):
    """Pair records of a 2 x 2 grid of tiles (and a diagonal) whose skies are ``planes`` on the tangent plane at (150, 2)."""
    centres = [(0.0, 0.0), (0.2, 0.0), (0.0, 0.2), (0.2, 0.2)]
    records = []
    for i, j in [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]:
        cx, cy = np.mean([centres[i], centres[j]], axis=0)
        x, y = cx + rng.uniform(-0.05, 0.05, 200), cy + rng.uniform(-0.05, 0.05, 200)
        dec = 2.0 + y
        ra = 150.0 + x / np.cos(np.radians(dec))  # near enough the gnomonic inverse for 0.2 deg; exact not needed
        x_true, y_true = tangent_offsets(ra, dec, 150.0, 2.0)
        d = (planes[i] - planes[j]) @ np.stack([np.ones_like(x), x_true, y_true]) + rng.normal(0, noise, x.size)
        records.append({
            "pair": f"t{i}~t{j}", "group_a": f"t{i}", "group_b": f"t{j}", "valid": True, "reason": None,
            "statistic": "difference", "noise": noise / np.sqrt(x.size),
            "a": {"sky": float(np.median(d)), "npix": x.size, "area_sr": None, "members": []},
            "b": {"sky": 0.0, "npix": x.size, "area_sr": None, "members": []},
            "plane": {"ra": ra.tolist(), "dec": dec.tolist(), "difference": d.tolist(), "npix": [1] * x.size},
        })
    return records


def footprints():
    return [{"image": f"t{k}", "file": f"t{k}.fits", "sci": "SCI", "group": f"t{k}",
             "background": {"level": None, "subtracted": None}} for k in range(4)]


def solve(records, **options):
    skies = [{"image": f"t{k}", "sky": 1.0, "npix": 100} for k in range(4)]
    options = {"sky_model": "plane", "match_weights": "reference", "robust_loss": "huber", "anchor": None} | options
    return solve_tables(footprints(), skies, records, "match", True, False, options)


def test_the_solve_stage_recovers_injected_planes_with_the_reference_zero_point():
    planes = np.array([[1.0, 2.0, -1.0], [1.5, -3.0, 0.5], [0.7, 0.0, 4.0], [2.0, 1.0, 1.0]])
    records = plane_records(planes, np.random.default_rng(5))
    sky, pairs = solve(records)
    ra0, dec0 = reference_point(records)
    assert np.allclose(sky["plane_ra0"], ra0) and np.allclose(sky["plane_dec0"], dec0)
    # the planes at the reference point and their tilts, up to one plane common to all (no overlap measures it)
    x0, y0 = tangent_offsets(ra0, dec0, 150.0, 2.0)
    levels = planes[:, 0] + planes[:, 1] * x0 + planes[:, 2] * y0
    solved = np.stack([sky["delta_match"], sky["plane_tilt_x"], sky["plane_tilt_y"]], axis=1)
    offset = solved - np.stack([levels, planes[:, 1], planes[:, 2]], axis=1)
    assert np.allclose(offset, offset[0], atol=[0.005, 0.1, 0.1]), offset - offset[0]
    assert np.allclose(offset[:, 1:], 0.0 + offset[:, 1:].mean(axis=0), atol=0.1)
    assert np.nanmin(sky["delta_match"]) == 0.0  # match_down: the lowest level is 0, as the reference's deltas
    assert np.all(np.abs(pairs["difference_after"]) < 5 * pairs["noise"])
    assert np.any(np.abs(pairs["difference_before"]) > 100 * pairs["noise"])


def test_anchors_and_robust_weights_reach_the_plane_solve():
    planes = np.array([[1.0, 2.0, -1.0], [1.5, -3.0, 0.5], [0.7, 0.0, 4.0], [2.0, 1.0, 1.0]])
    records = plane_records(planes, np.random.default_rng(6))
    sky, pairs = solve(records, anchor={"t1": 3.0}, match_weights="robust")
    assert sky["delta_match"][1] == pytest.approx(3.0)
    assert sky["plane_tilt_x"][1] == pytest.approx(0.0) and sky["plane_tilt_y"][1] == pytest.approx(0.0)
    # the robust weights are the plane solve's (mean residual per pair over its noise), one per pair
    assert "weight" in pairs.colnames and np.all((pairs["weight"] > 0) & (pairs["weight"] <= 1))
