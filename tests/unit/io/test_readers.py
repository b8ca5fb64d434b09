"""Reading one image: pixels, DQ, WCS, group ids, and every bad-input message."""

import numpy as np
import pytest
from astropy.io import fits

from helpers.images import tan_wcs
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.io.readers import group_id, read_header, read_sci_dq

JWST_CARDS = {"PROGRAM": "01234", "OBSERVTN": "001", "VISIT": "001", "VISITGRP": "01",
              "SEQ_ID": "1", "ACT_ID": "01", "EXPOSURE": "00002"}


def spec_for(path, sci="SCI,1", dq="auto", dq_file="", group=""):
    return ImageSpec("img", str(path), sci, dq, dq_file, group)


def test_reads_float32_sci_and_uint32_dq(image_factory):
    dq = np.arange(64 * 80, dtype=np.int32).reshape(64, 80) % 7
    path = image_factory("a.fits", sci=np.ones((64, 80), np.float64), dq=dq)
    sci, dq_read = read_sci_dq(spec_for(path))
    assert sci.dtype == np.float32 and dq_read.dtype == np.uint32
    assert np.array_equal(dq_read, dq)


def test_separate_dq_file(image_factory):
    img = image_factory("ooi.fits", extname="S4")
    dqf = image_factory("ood.fits", extname="S4", sci=np.full((64, 80), 3, np.int16))
    sci, dq = read_sci_dq(spec_for(img, sci="S4", dq="", dq_file=str(dqf)))
    assert sci.shape == dq.shape and np.all(dq == 3)


def test_header_shape_and_wcs(image_factory):
    path = image_factory("a.fits", shape=(30, 50), wcs=tan_wcs((30, 50), sip=True))
    header = read_header(spec_for(path))
    assert header.shape == (30, 50)
    assert header.wcs.sip is not None and header.wcs.has_celestial


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda f, d: d / "missing.fits", "missing.fits: file not found"),
        (lambda f, d: (d / "bad.fits").write_text("not fits") and d / "bad.fits", "bad.fits: not a readable FITS file"),
        (lambda f, d: f("nowcs.fits", layout="nowcs"), "nowcs.fits: extension 'SCI,1': no celestial WCS"),
        (lambda f, d: f("nosci.fits", extname="IMG"), "nosci.fits: no extension 'SCI,1'"),
    ],
)
def test_bad_input_one_line_naming_the_file(image_factory, tmp_path, make, pattern):
    path = make(image_factory, tmp_path)
    with pytest.raises(InputError, match=pattern) as info:
        read_header(spec_for(path))
    assert "\n" not in str(info.value)


def test_dq_shape_mismatch(image_factory):
    path = image_factory("a.fits", dq=np.zeros((10, 10), np.uint32))
    with pytest.raises(InputError, match=r"a.fits\[DQ,1\]: DQ shape \(10, 10\) differs from SCI shape \(64, 80\)"):
        read_sci_dq(spec_for(path))


def test_truncated_file(image_factory, tmp_path):
    path = image_factory("a.fits", shape=(256, 256))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="a.fits"):
        read_sci_dq(spec_for(path, dq=""))


def test_inputs_opened_read_only(image_factory):
    path = image_factory("a.fits", dq=np.zeros((64, 80), np.uint32))
    path.chmod(0o444)
    before = path.read_bytes()
    read_sci_dq(spec_for(path))
    read_header(spec_for(path))
    assert path.read_bytes() == before


def test_group_ids():
    spec = ImageSpec("img", "/d/jw01234001001_01101_00002_nrca1_cal.fits", "SCI,1")
    primary = fits.Header(JWST_CARDS)
    assert group_id(spec, primary, fits.Header(), "exposure") == "jw01234001001_01101_00002"
    assert group_id(spec, fits.Header(), fits.Header(), "exposure") == "jw01234001001_01101_00002_nrca1_cal"
    assert group_id(spec, primary, fits.Header(), "none") == "img"
    assert group_id(spec, primary, fits.Header({"FILTER": "F200W"}), "FILTER") == "F200W"
    with pytest.raises(InputError, match="grouping keyword 'BAND'"):
        group_id(spec, primary, fits.Header(), "BAND")
    sheet_spec = ImageSpec("img", spec.file, "SCI,1", group="mine")
    assert group_id(sheet_spec, primary, fits.Header(), "exposure") == "mine"

