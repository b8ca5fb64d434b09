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


def _scaled_by_astropy(path, ext):
    with fits.open(path, memmap=False) as hdul:
        return np.asarray(hdul[ext].data)


@pytest.mark.parametrize(
    "stored_dtype, cards, low, refused",
    [
        (np.int32, {"BZERO": 2**31}, -2**31, None),  # JWST's DQ: uint32 stored as int32
        (np.int32, {}, 0, None),
        (np.int32, {}, -5, "negative values"),
        (np.int16, {"BZERO": 2**15}, -2**15, None),  # uint16, which astropy scales
        (np.int16, {"BSCALE": 2.0, "BZERO": 1.0}, 0, "floating-point values"),
        (np.int32, {"BLANK": 7}, 0, "floating-point values"),  # BLANK: astropy makes floats with NaN
        (np.uint8, {}, 0, None),
    ],
)
def test_dq_read_equals_astropys_scaled_pixels(tmp_path, stored_dtype, cards, low, refused):
    """The stored-pixel fast path (readers._stored_pixels) gives astropy's scaled pixels, or astropy scales them."""
    rng = np.random.default_rng(3)
    high = np.iinfo(stored_dtype).max
    stored = rng.integers(low, high, (40, 30), endpoint=True).astype(stored_dtype)
    stored[0, :3] = [low, high, 7]
    sci = fits.ImageHDU(rng.normal(size=(40, 30)).astype(">f4"), header=tan_wcs((40, 30)).to_header(), name="SCI")
    path = tmp_path / "scaled.fits"
    fits.HDUList([fits.PrimaryHDU(), sci, fits.ImageHDU(stored, name="DQ")]).writeto(path)
    with fits.open(path, mode="update", do_not_scale_image_data=True) as hdul:  # the stored integers stay
        hdul["DQ"].header.update(cards)
    spec = spec_for(path, sci="SCI", dq="DQ")
    if refused:
        with pytest.raises(InputError, match=f"extension 'DQ': DQ holds {refused}"):
            read_sci_dq(spec)
        return
    sci_read, dq_read = read_sci_dq(spec)
    assert dq_read.dtype == np.uint32 and dq_read.dtype.isnative
    assert dq_read.tobytes() == np.asarray(_scaled_by_astropy(path, "DQ"), np.uint32).tobytes()
    assert sci_read.dtype == np.float32 and sci_read.dtype.isnative
    assert sci_read.tobytes() == np.asarray(_scaled_by_astropy(path, "SCI"), np.float32).tobytes()


def test_scaled_sci_is_scaled_as_astropy_scales_it(tmp_path):
    stored = np.arange(-600, 600, dtype=np.int16).reshape(40, 30)
    hdu = fits.ImageHDU(stored, header=tan_wcs((40, 30)).to_header(), name="SCI")
    path = tmp_path / "int.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    with fits.open(path, mode="update", do_not_scale_image_data=True) as hdul:
        hdul["SCI"].header["BSCALE"], hdul["SCI"].header["BZERO"] = 0.5, 3.0
    sci, dq = read_sci_dq(spec_for(path, sci="SCI"))
    assert dq is None
    assert sci.tobytes() == np.asarray(_scaled_by_astropy(path, "SCI"), np.float32).tobytes()
    assert sci[0, 0] == np.float32(-600 * 0.5 + 3.0)


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

