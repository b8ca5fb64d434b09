"""The opt-in options of issue 19 on small synthetic scenes with injected truth.

Each test runs the workflow's stage code in process (tests/helpers/in_process.py)
on a miniature scene (tests/helpers/scenes.py) and asserts the improvement the
option is for; the full-size numbers are in README.md
(tests/benchmarks/measure_scenes.py).
"""


import numpy as np
import pytest

from helpers.config import schema_defaults
from helpers.in_process import run_in_process
from helpers.paths import REPO
from helpers.scenes import make_scene, recovered_rms

SCALE = 0.5  # tiles of 192 px with 32 px overlaps
GRID = {"n_cols": 4, "n_rows": 3}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    return {name: make_scene(root / name, name, scale=SCALE, **GRID) for name in ("clean", "nebula", "artefact")}


RESULTS = {}  # (scene, skystat, options) -> (rms, pair table): runs shared by the tests


def rms(scenes, tmp_path, scene, skystat, **options):
    key = (scene, skystat, repr(sorted(options.items())))
    if key not in RESULTS:
        RESULTS[key] = _run(scenes, tmp_path, scene, skystat, options)
    return RESULTS[key]


def _run(scenes, tmp_path, scene, skystat, options):
    paths, truth = scenes[scene]
    config = schema_defaults()
    config |= {"images": paths, "skymethod": "match", "skystat": skystat} | options
    sky, pairs = run_in_process(config, tmp_path / f"{scene}-{skystat}-{len(options)}")
    return recovered_rms(sky, truth), pairs


@pytest.mark.parametrize("skystat", ["median", "mean"])
def test_difference_statistic_recovers_the_sky_under_a_half_flagged_nebula(scenes, tmp_path, skystat):
    defaults, _ = rms(scenes, tmp_path, "nebula", skystat)
    difference, pairs = rms(scenes, tmp_path, "nebula", skystat, pair_statistic="difference")
    clean, _ = rms(scenes, tmp_path, "clean", skystat)
    assert defaults > 1.0  # the reference's statistic sees the flagged core on one side only
    assert difference <= defaults / 5
    assert difference <= 3 * clean
    assert "weight" not in pairs.colnames  # the reference's weights: no weight column


def test_excluding_the_artefact_brings_back_the_clean_level(scenes, tmp_path):
    paths, _ = scenes["artefact"]
    region = str(REPO / paths[0]).rsplit("/", 1)[0] + "/artefact.reg"
    defaults, _ = rms(scenes, tmp_path, "artefact", "median")
    excluded, _ = rms(scenes, tmp_path, "artefact", "median", exclude={"regions": [region]})
    clean, _ = rms(scenes, tmp_path, "clean", "median")
    assert defaults > 5 * clean
    assert excluded <= 1.5 * clean + 0.005


def test_robust_weights_flag_the_spoiled_pair(scenes, tmp_path):
    defaults, _ = rms(scenes, tmp_path, "artefact", "median")
    robust, pairs = rms(scenes, tmp_path, "artefact", "median", match_weights="robust", robust_loss="tukey")
    assert robust < defaults / 2
    valid = pairs[pairs["valid"]]
    worst = valid[np.argmin(valid["weight"])]
    # the artefact lies in the overlap of tile 05 and its right neighbour 06
    assert {worst["group_a"], worst["group_b"]} == {"tile_05", "tile_06"}
    assert worst["weight"] < 0.1
    assert np.median(valid["weight"]) > 0.5


def test_difference_of_the_same_sky_is_the_offset(tmp_path):
    """Two tiles of one nebula with a known offset: the pair's difference is that offset."""
    paths, truth = make_scene(tmp_path / "pair", "nebula", scale=0.4, n_cols=2, n_rows=1, noise=0.002)
    from skymatchflow.geometry.footprint import polygon_from_dict
    from skymatchflow.io.inputs import discover_images
    from skymatchflow.io.stagefiles import read_json
    from skymatchflow.products.images import product_path
    from skymatchflow.products.ruleparams import image_batch_params
    from skymatchflow.stages.image_batch import run_image_batch
    from skymatchflow.stats._pairdifference import difference_record
    from skymatchflow.stats.pairimage import load_pair_image

    config = schema_defaults() | {"images": paths}
    specs = discover_images(config)
    run_image_batch(image_batch_params(specs, config), tmp_path / "images")
    images = []
    for image, spec in specs.items():
        footprint = read_json(product_path(tmp_path / "images", image, "footprint"))
        images.append(load_pair_image(image, spec.file, spec.sci, polygon_from_dict(footprint["polygon"]),
                                      product_path(tmp_path / "images", image, "mask")))
    record = difference_record("a", images[:1], "b", images[1:], config | {"skystat": "median"})
    assert record["valid"] and record["statistic"] == "difference"
    expected = truth["sky"][0] - truth["sky"][1]
    assert record["a"]["sky"] == pytest.approx(expected, abs=5e-4)
    assert record["noise"] > 0
