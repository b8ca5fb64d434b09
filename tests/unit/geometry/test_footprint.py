"""Footprints equal stcal's bounding polygons on the same WCS, vertex for vertex."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from stcal.skymatch.skyimage import _calc_bounding_polygon

from helpers.images import tan_wcs
from helpers.paths import SHARED_DATA
from skymatchflow.geometry.footprint import footprint_polygon, outline_pixels, polygon_from_dict, polygon_to_dict
from skymatchflow.io.readers import celestial_wcs


def reference_polygon(shape, wcs, stepsize):
    def wcs_fwd(x, y, with_bounding_box=False):
        return wcs.all_pix2world(x, y, 0)

    return _calc_bounding_polygon(np.empty(shape, np.float32), wcs_fwd, stepsize)


def assert_same_polygon(ours, ref):
    assert len(ours.polygons) == len(ref.polygons) == 1
    for mine, theirs in zip(ours.polygons, ref.polygons):
        assert np.array_equal(mine.points, theirs.points)
        assert np.array_equal(mine.inside, theirs.inside)
    assert ours.area() == ref.area()


@pytest.mark.parametrize("stepsize", [None, 1, 7, 64, 500, 5000, -3])
@pytest.mark.parametrize("shape", [(64, 80), (2048, 2048), (1, 5)])
def test_tan_sip_rotated(shape, stepsize):
    wcs = tan_wcs(shape, rotation_deg=33.0, sip=True)
    if stepsize is not None and stepsize < 0:
        with pytest.raises(ValueError, match="stepsize"):
            footprint_polygon(shape, wcs, stepsize)
        return
    ours, _, _ = footprint_polygon(shape, wcs, stepsize)
    assert_same_polygon(ours, reference_polygon(shape, wcs, stepsize))


@pytest.mark.parametrize("crval", [(0.0001, 10.0), (359.9999, -20.0), (45.0, 89.99), (200.0, -89.99)])
def test_ra_wrap_and_poles(crval):
    wcs = tan_wcs((100, 120), crval=crval, scale_arcsec=5.0, rotation_deg=10.0)
    ours, _, _ = footprint_polygon((100, 120), wcs, 32)
    assert_same_polygon(ours, reference_polygon((100, 120), wcs, 32))


REAL_FILES = [
    SHARED_DATA / "m17_2mass" / "aK_asky_990502s1350080.fits.gz",
    SHARED_DATA / "m17_2mass" / "aK_asky_990502s1350092.fits.gz",
    SHARED_DATA / "decam_legacypipe" / "testcase6" / "c4d_150110_053718_ooi_z_ls9.S4.fits",
    SHARED_DATA / "decam_legacypipe" / "testcase6" / "c4d_171113_061941_ooi_r_ls9.S4.fits",
]


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_real_data_sin_and_tpv(path):
    with fits.open(path) as hdul:
        hdu = next(h for h in hdul if h.header.get("NAXIS") == 2)
        wcs = celestial_wcs(hdu.header, path, hdu.name, hdul)
        shape = hdu.data.shape
    for stepsize in (None, 16):
        ours, _, _ = footprint_polygon(shape, wcs, stepsize)
        assert_same_polygon(ours, reference_polygon(shape, wcs, stepsize))


def test_outline_runs_along_pixel_edges():
    x, y = outline_pixels((10, 20), 5)
    assert (x[0], y[0]) == (-0.5, -0.5) and (x[-1], y[-1]) == (-0.5, -0.5)
    assert set(np.round(x, 9)) >= {-0.5, 19.5} and set(np.round(y, 9)) >= {-0.5, 9.5}
    assert len(x) == 2 * (5 + 3 - 2) + 1  # nint_x = ceil(21/5) = 5, nint_y = ceil(11/5) = 3


def test_polygon_json_round_trip_is_exact():
    import json

    polygon, _, _ = footprint_polygon((50, 60), tan_wcs((50, 60), sip=True), 8)
    again = polygon_from_dict(json.loads(json.dumps(polygon_to_dict(polygon))))
    assert_same_polygon(again, polygon)


def test_astropy_wcs_object_used_is_celestial():
    header = tan_wcs((10, 10)).to_header()
    assert isinstance(celestial_wcs(header, "x", "SCI"), WCS)
