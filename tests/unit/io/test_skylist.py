"""skymethod 'user': the skylist's rules, errors before any job, and the result."""

import numpy as np
import pytest

from skymatchflow.errors import InputError
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
