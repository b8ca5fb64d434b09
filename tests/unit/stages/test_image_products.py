"""The per-image records: footprint (header only), SCI with its good-pixel mask, whole-image sky."""

import numpy as np
import pytest

from helpers.images import tan_wcs, write_image
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.stages._image_products import footprint_record, sci_and_mask, sky_record
from skymatchflow.stages.overlap_graph import group_order

SHAPE = (30, 40)
STAT = {"skystat": "mean", "lower": None, "upper": None, "nclip": 0, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def spec_of(path, **kw):
    return ImageSpec(image=path.stem, file=str(path), sci="SCI", dq="auto", **kw)


def test_footprint_record_holds_group_background_and_area(tmp_path):
    path = write_image(tmp_path / "a.fits", shape=SHAPE, primary_cards={"BKGLEVEL": 1.5, "BKGSUB": True})
    record = footprint_record(spec_of(path, group="mine"), None, "none")
    assert record["group"] == "mine" and record["shape"] == list(SHAPE)
    assert record["background"] == {"level": 1.5, "subtracted": True}
    pixel_sr = np.radians(0.5 / 3600) ** 2
    assert record["area_sr"] == pytest.approx(SHAPE[0] * SHAPE[1] * pixel_sr, rel=1e-3)
    assert len(record["ra"]) == len(record["dec"]) >= 4


def test_bkglevel_without_bkgsub_is_refused_before_any_pixel(tmp_path):
    path = write_image(tmp_path / "b.fits", shape=SHAPE, primary_cards={"BKGLEVEL": 1.5})
    with pytest.raises(InputError, match="BKGSUB"):
        footprint_record(spec_of(path), None, "none")


def test_mask_and_sky_use_only_good_pixels(tmp_path):
    sci = np.full(SHAPE, 2.0, np.float32)
    sci[0, :] = 1000.0  # flagged below: must not reach the sky
    dq = np.zeros(SHAPE, np.uint32)
    dq[0, :] = 1  # DO_NOT_USE
    path = write_image(tmp_path / "c.fits", shape=SHAPE, sci=sci, dq=dq, wcs=tan_wcs(SHAPE))
    spec = spec_of(path)
    sci_read, mask = sci_and_mask(spec, 0)
    assert mask.sum() == (SHAPE[0] - 1) * SHAPE[1] and not mask[0].any()
    record = sky_record(spec, sci_read, mask, STAT)
    assert record == {"image": "c", "sky": 2.0, "npix": (SHAPE[0] - 1) * SHAPE[1], "reason": None}
    record = sky_record(spec, sci_read, np.zeros(SHAPE, bool), STAT)
    assert record["sky"] is None and record["npix"] == 0 and record["reason"]


def test_group_order_is_first_appearance():
    records = [{"image": i, "group": g} for i, g in [("a", "y"), ("b", "x"), ("c", "y")]]
    assert group_order(records) == {"y": ["a", "c"], "x": ["b"]}
