"""The demo mosaic's fixed instrument, its exposures' layout on the sky and each file's WCS header."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, Sip

from skymatchflow.demo.names import DETECTOR_NAMES

# --- fixed "instrument" and observation parameters --------------------------
PIXEL_SCALE = 0.031  # arcsec / pixel (NIRCam short wave)
DETECTOR_GAP = 5.0  # arcsec between neighbouring detectors
REFERENCE_BORDER = 4  # pixels of reference-pixel border (NaN in SCI)
POINTING = (150.1, 2.2)  # RA, Dec (deg) of the first exposure's centre
POSITION_ANGLE = 12.0  # deg, pixel grid rotation from north-up/east-left
FULL_SCALE_SIZE = 1024  # detector size the arcsec-scale choices refer to
NOISE_SIGMA = 0.01  # MJy/sr, gaussian
SATURATION_LEVEL = 40.0  # MJy/sr; scene brighter than this saturates
PSF_SIGMA = 0.93  # pixels (FWHM ~2.2 px ~ 0.07 arcsec, ~F200W)
STAR_DENSITY = 0.06  # stars per square arcsec of mosaic bounding box
FILTER = "F200W"
_FIRST_EXPOSURE_START = datetime(2026, 11, 23, 3, 14, 15, 926000, tzinfo=UTC)
_EXPOSURE_CADENCE_S = 600.0
_EFFEXPTM_S = 526.152
_MJD_UNIX_EPOCH = 40587.0

# detector name -> (focal-plane quadrant signs along pixel x, y; tilt in deg;
# SIP quadratic shape (a20, a11, a02, b20, b11, b02), scaled later so the
# distortion is a fraction of a pixel at the detector edge).
_DETECTORS = dict(zip(DETECTOR_NAMES, [
    ((-1, -1), 0.030, (0.8, -0.3, 0.4, -0.2, 0.5, 0.7)),
    ((-1, +1), -0.040, (0.7, 0.3, 0.3, 0.2, 0.6, -0.6)),
    ((+1, -1), 0.050, (-0.6, 0.4, -0.3, -0.3, -0.5, 0.8)),
    ((+1, +1), -0.020, (-0.7, -0.2, -0.4, 0.3, -0.6, -0.7)),
]))
_SIP_EDGE_PIXELS = 0.3  # magnitude of the SIP distortion at the detector edge

# Per-detector bad-pixel fractions (the map is a detector property, so it is
# the same in every exposure of that detector).
_HOT_FRACTION, _DEAD_FRACTION, _WARM_FRACTION = 5e-4, 3e-4, 1e-3
_COSMIC_RAYS_PER_MPIX = 300  # per 1024^2 pixels


# --- sky geometry helpers ------------------------------------------------------
def _tangent_plane(ra0, dec0):
    """astropy's gnomonic projection about (ra0, dec0), one pixel per arcsec: x = xi (east), y = eta (north)."""
    plane = WCS(naxis=2)
    plane.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    plane.wcs.crval = [ra0, dec0]
    plane.wcs.crpix = [1.0, 1.0]  # with origin 0 below, pixel (0, 0) is the tangent point
    plane.wcs.cdelt = [1.0 / 3600.0, 1.0 / 3600.0]
    return plane


def _tan_to_sky(xi, eta, ra0, dec0):
    """Gnomonic de-projection: arcsec offsets (xi east, eta north) -> deg."""
    ra, dec = _tangent_plane(ra0, dec0).wcs_pix2world(np.asarray(xi, float), np.asarray(eta, float), 0)
    return ra % 360.0, dec


def _sky_to_tan(ra, dec, ra0, dec0):
    """Gnomonic projection: deg -> arcsec offsets (xi east, eta north)."""
    return _tangent_plane(ra0, dec0).wcs_world2pix(np.asarray(ra, float), np.asarray(dec, float), 0)


def _rotate(u_, v_, angle_deg):
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return c * u_ - s * v_, s * u_ + c * v_


@dataclass(frozen=True)
class _Exposure:
    index: int  # 0-based
    dither: tuple[float, float]  # arcsec, along exposure-1 pixel x, y
    rotation: float  # deg relative to exposure 1
    sky_level: float  # MJy/sr


def _layout_scale(detector_size: int) -> float:
    """1 at the default size and above; smaller test mosaics are miniatures."""
    return min(1.0, detector_size / FULL_SCALE_SIZE)


def _gap(detector_size: int) -> float:
    """Gap between detectors (arcsec): ~5 arcsec, shrunk with tiny detectors."""
    return DETECTOR_GAP * _layout_scale(detector_size)


def _exposure_plan(n_exposures: int, detector_size: int) -> list[_Exposure]:
    """Dither/rotation/sky per exposure.

    Each later exposure is offset diagonally by a little more than the
    detector gap (~6.6, 6.1 arcsec at the default size) and rotated by a
    fraction of a degree, the way NIRCam dithers fill the gaps: a detector
    then overlaps its own counterpart in exposure 1 over most of its area,
    and its neighbours across the gaps in strips >= ~16 pixels wide, so the
    overlap graph is connected. Directions cycle through the four
    diagonals; the sky level rises by 0.06 MJy/sr per exposure.
    """
    scale = _layout_scale(detector_size)
    gap = _gap(detector_size)
    cross_u = max(1.6 * scale, 20 * PIXEL_SCALE)
    cross_v = max(1.1 * scale, 16 * PIXEL_SCALE)
    signs = [(1, 1), (-1, 1), (1, -1), (-1, -1)]
    rotations = [0.7, -0.55, 0.4, -0.85]
    plan = []
    for k in range(n_exposures):
        if k == 0:
            dither, rot = (0.0, 0.0), 0.0
        else:
            su, sv = signs[(k - 1) % 4]
            grow = 1.0 + 0.15 * (((k - 1) // 4) % 3)
            dither = (su * (gap + cross_u) * grow, sv * (gap + cross_v) * grow)
            rot = rotations[(k - 1) % 4]
        plan.append(_Exposure(k, dither, rot, round(0.20 + 0.06 * k, 6)))
    return plan


def _detector_center(det: str, detector_size: int) -> tuple[float, float]:
    """Detector centre in the focal plane (arcsec along pixel x, y)."""
    (sx, sy), _, _ = _DETECTORS[det]
    half = (detector_size * PIXEL_SCALE + _gap(detector_size)) / 2.0
    return sx * half, sy * half


def _sky_offset(exp: _Exposure, fp_u: float, fp_v: float) -> tuple[float, float]:
    """Focal-plane point of an exposure -> (xi, eta) arcsec around POINTING.

    The exposure is rotated about the pointing centre, then offset by its
    dither (defined along exposure 1's pixel axes).
    """
    p, q = _rotate(fp_u, fp_v, POSITION_ANGLE + exp.rotation)
    dp, dq = _rotate(*exp.dither, POSITION_ANGLE)
    # pixel x runs towards the west (east-left images): xi = -p
    return -(p + dp), q + dq


def _wcs_header(exp: _Exposure, det: str, detector_size: int) -> fits.Header:
    """Celestial TAN-SIP WCS of one detector in one exposure, as a header."""
    _, tilt, shape = _DETECTORS[det]
    n = detector_size
    ra, dec = _tan_to_sky(*_sky_offset(exp, *_detector_center(det, n)), *POINTING)
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = "ICRS"
    w.wcs.crpix = [(n + 1) / 2.0, (n + 1) / 2.0]
    w.wcs.crval = [float(ra), float(dec)]
    w.wcs.cdelt = [-PIXEL_SCALE / 3600.0, PIXEL_SCALE / 3600.0]
    c = math.cos(math.radians(POSITION_ANGLE + exp.rotation + tilt))
    s = math.sin(math.radians(POSITION_ANGLE + exp.rotation + tilt))
    w.wcs.pc = [[c, -s], [s, c]]
    k = _SIP_EDGE_PIXELS / (n / 2.0) ** 2
    a = np.zeros((3, 3))
    b = np.zeros((3, 3))
    a[2, 0], a[1, 1], a[0, 2], b[2, 0], b[1, 1], b[0, 2] = (k * x for x in shape)
    # first-order inverse: good to ~1e-3 px for a 0.3 px distortion
    w.sip = Sip(a, b, -a, -b, w.wcs.crpix)
    return w.to_header(relax=True)
