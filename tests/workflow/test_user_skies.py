"""skymethod 'user' end to end: the skylist's skies in the table and the matched copies; a bad skylist stops before any job."""

import numpy as np
import pytest
import yaml
from astropy.io import fits
from astropy.table import Table

from helpers.images import write_image
from helpers.paths import REPO
from helpers.workflow_runner import run_snakemake


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
