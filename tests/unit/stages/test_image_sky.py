"""Whole-image sky equals stcal's SkyImage.calc_sky(overlap=None) on the same pixels."""

import numpy as np
import pytest
from stcal.skymatch.skyimage import SkyImage
from stcal.skymatch.skystatistics import SkyStats

from helpers.images import write_image
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.io.maskfile import write_mask
from skymatchflow.stages._image_sky import whole_image_sky
from skymatchflow.stats.dqflags import good_pixel_mask

PARAMS = {"skystat": "mode", "lower": None, "upper": None, "nclip": 5, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def prepared(tmp_path, sci, dq, bits=0):
    path = write_image(tmp_path / "a.fits", shape=sci.shape, sci=sci, dq=dq)
    mask = good_pixel_mask(sci, dq, bits)
    write_mask(tmp_path / "mask.fits", mask, "a", {})
    return ImageSpec("a", str(path), "SCI"), tmp_path / "mask.fits", mask


@pytest.mark.parametrize("skystat", ["mode", "median", "mean", "midpt"])
@pytest.mark.parametrize("limits", [(None, None), (0.8, 1.5)])
def test_equals_reference(tmp_path, skystat, limits):
    rng = np.random.default_rng(3)
    sci = rng.normal(1.0, 0.1, (300, 400)).astype(np.float32)
    sci[rng.random(sci.shape) < 0.02] += 20.0
    dq = (rng.random(sci.shape) < 0.1).astype(np.uint32) * 4
    spec, mask_path, mask = prepared(tmp_path, sci, dq)
    params = dict(PARAMS, skystat=skystat, lower=limits[0], upper=limits[1])
    record = whole_image_sky(spec, mask_path, params)
    stats = SkyStats(skystat, lower=limits[0], upper=limits[1], nclip=5, lsig=4.0, usig=4.0, binwidth=0.1)
    reference = SkyImage(image=sci, mask=mask, wcs_fwd=lambda x, y, with_bounding_box=False: (x, y),
                         wcs_inv=None, skystat=stats)
    # the footprint of this stand-in WCS is not used by calc_sky(None)
    value, npix, _ = reference.calc_sky(overlap=None, delta=True)
    assert record["npix"] == npix
    assert record["sky"] == pytest.approx(value, rel=1e-6, abs=1e-6)


def test_every_pixel_masked_gives_no_value_with_reason(tmp_path):
    sci = np.ones((20, 30), np.float32)
    spec, mask_path, _ = prepared(tmp_path, sci, np.ones((20, 30), np.uint32))
    record = whole_image_sky(spec, mask_path, PARAMS)
    assert record["sky"] is None and record["npix"] == 0 and record["reason"]


def test_mask_of_another_shape_is_refused(tmp_path):
    sci = np.ones((20, 30), np.float32)
    spec, _, _ = prepared(tmp_path, sci, np.zeros((20, 30), np.uint32))
    write_mask(tmp_path / "other.fits", np.ones((5, 5), bool), "a", {})
    with pytest.raises(InputError, match="mask shape"):
        whole_image_sky(spec, tmp_path / "other.fits", PARAMS)
