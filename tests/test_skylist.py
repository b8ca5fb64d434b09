"""skymethod 'user': the skylist's rules, errors before any job, and the result."""

import numpy as np
import pytest
import yaml
from astropy.io import fits
from astropy.table import Table
from conftest import REPO, write_image
from workflow_runner import run_snakemake

from skymatchflow.io.errors import InputError
from skymatchflow.io.skylist import exposure_stem, read_skylist

FILES = ["/d/jw01_nrca1_cal.fits", "/d/jw01_nrca2_cal.fits"]


@pytest.mark.parametrize(
    "name, stem",
    [("jw01_nrca1_cal.fits", "jw01_nrca1"), ("jw01_nrca1", "jw01_nrca1"), ("x_rate.fits.gz", "x"),
     ("tile_07.fits", "tile_07"), ("/a/b/jw01_nrca1_i2d.fits", "jw01_nrca1")],
)
def test_exposure_stem(name, stem):
    assert exposure_stem(name) == stem


def test_reads_skies_rounded_to_float32(tmp_path):
    path = tmp_path / "sky.txt"
    path.write_text("# file sky\njw01_nrca1_cal.fits 0.1\njw01_nrca2 0.25  # comment\n")
    skies = read_skylist(path, FILES)
    assert skies == {FILES[0]: float(np.float32(0.1)), FILES[1]: 0.25}
    assert skies[FILES[0]] != 0.1


def test_one_line_skylist_is_accepted(tmp_path):
    path = tmp_path / "sky.txt"
    path.write_text("jw01_nrca1_cal.fits 3\n")
    assert read_skylist(path, FILES[:1]) == {FILES[0]: 3.0}


@pytest.mark.parametrize(
    "text, message",
    [
        ("jw01_nrca1_cal.fits 0.1\n", "no sky for 1 input file"),
        ("jw01_nrca1_cal.fits 0.1\njw01_nrca1 0.2\njw01_nrca2 0.3\n", "line 2: 'jw01_nrca1' is named twice"),
        ("jw01_nrca1 0.1\njw01_nrca2 0.2\njw09_nrcb1 0.3\n", "line 3: 'jw09_nrcb1' is not an input file"),
        ("jw01_nrca1 abc\n", "line 1: sky 'abc' is not a number"),
        ("jw01_nrca1 0.1 7\n", "line 1: expected 'file sky'"),
    ],
)
def test_bad_skylists_name_the_line(tmp_path, text, message):
    path = tmp_path / "sky.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=f"{path}: {message}"):
        read_skylist(path, FILES)


def user_run(tmp_path, skylist_text, subtract):
    images = []
    for k in range(2):
        sci = np.full((64, 80), 1.0 + k, np.float32)
        images.append(str(write_image(tmp_path / f"jw01_nrca{k + 1}_cal.fits", sci=sci)))
    (tmp_path / "sky.txt").write_text(skylist_text)
    (tmp_path / "config").mkdir()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(images=images, skymethod="user", skylist="sky.txt", subtract=subtract)
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return run_snakemake(tmp_path, "all", "matched"), images


@pytest.mark.e2e
def test_user_skies_end_to_end(tmp_path):
    result, images = user_run(tmp_path, "jw01_nrca1_cal.fits 0.5\njw01_nrca2_cal.fits 1.5\n", True)
    assert result.returncode == 0, result.stderr[-3000:]
    sky = Table.read(tmp_path / "results" / "sky.ecsv")
    assert list(sky["sky"]) == [0.5, 1.5] and set(sky["status"]) == {"COMPLETE"}
    assert not (tmp_path / "results" / "pairs").exists()
    for k, name in enumerate(["jw01_nrca1_cal.fits", "jw01_nrca2_cal.fits"]):
        with fits.open(tmp_path / "results" / "matched" / name) as hdul:
            assert hdul[0].header["BKGMETH"] == "user" and hdul[0].header["BKGSUB"] is True
            assert np.all(hdul["SCI"].data == np.float32(1.0 + k) - np.float32([0.5, 1.5][k]))


@pytest.mark.e2e
def test_bad_skylist_stops_before_any_job(tmp_path):
    result, _ = user_run(tmp_path, "jw01_nrca1_cal.fits 0.5\n", False)
    assert result.returncode != 0
    assert "sky.txt: no sky for 1 input file" in result.stderr
    assert not (tmp_path / "results").exists()
