"""The map every figure shares: a gnomonic (TAN) projection about the mosaic's centre.

Footprints are projected by astropy's WCS, not by RA/Dec arithmetic, so the
map is right across RA 0/360 and next to a pole. Offsets are in degrees in
the tangent plane, east and north; figures draw east to the left, as on the sky.
"""

import functools

import numpy as np


def mean_direction(ra, dec):
    """(ra, dec) in degrees of the normalised mean of the unit vectors of the points."""
    ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    x, y, z = (np.mean(np.cos(dec) * np.cos(ra)), np.mean(np.cos(dec) * np.sin(ra)), np.mean(np.sin(dec)))
    return float(np.degrees(np.arctan2(y, x)) % 360.0), float(np.degrees(np.arctan2(z, np.hypot(x, y))))


def tan_wcs(centre, scale_deg=1.0, crpix=(1.0, 1.0)):
    """A TAN WCS about ``centre`` (ra, dec): pixel axes east and north, ``scale_deg`` per pixel."""
    from astropy.wcs import WCS  # only where a grid or a projection is made: the figures after the solve need none

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(centre)
    wcs.wcs.crpix = list(crpix)
    wcs.wcs.cdelt = [scale_deg, scale_deg]  # east positive: figures invert the x axis
    wcs.wcs.set()
    return wcs


class TangentPlane:
    """Tangent-plane offsets (degrees, east and north) about the mean direction of the given points."""

    def __init__(self, ra, dec):
        self.centre = mean_direction(ra, dec)

    @classmethod
    def about(cls, centre):
        """The plane about a known ``centre`` (ra, dec), as the map file records it."""
        plane = cls.__new__(cls)
        plane.centre = (float(centre[0]), float(centre[1]))
        return plane

    @functools.cached_property
    def wcs(self):
        return tan_wcs(self.centre)

    def project(self, ra, dec):
        """(x, y) offsets in degrees; points more than 90 degrees away come out NaN."""
        x, y = self.wcs.wcs_world2pix(np.asarray(ra, float), np.asarray(dec, float), 0)
        return np.asarray(x, float), np.asarray(y, float)

    def grid(self, bounds, max_pixels):
        """(WCS, shape) of a grid over ``bounds`` (x0, x1, y0, y1 in degrees), longer side ``max_pixels``."""
        shape, scale = grid_shape(bounds, max_pixels)
        x0, _, y0, _ = bounds
        # pixel (0, 0) is centred on (x0, y0) + half a pixel; crpix is 1-based
        crpix = (1.0 - (x0 / scale) - 0.5, 1.0 - (y0 / scale) - 0.5)
        return tan_wcs(self.centre, scale, crpix), shape


def grid_shape(bounds, max_pixels):
    """((rows, columns), degrees per pixel) of a grid over ``bounds`` (x0, x1, y0, y1), longer side ``max_pixels``."""
    x0, x1, y0, y1 = bounds
    scale = max(x1 - x0, y1 - y0) / max_pixels
    return (max(1, int(np.ceil((y1 - y0) / scale))), max(1, int(np.ceil((x1 - x0) / scale)))), scale


def angle_unit(extent_deg):
    """(factor from degrees, label) of the unit that suits a map ``extent_deg`` across."""
    if extent_deg < 2.0 / 60.0:
        return 3600.0, "arcsec"
    if extent_deg < 2.0:
        return 60.0, "arcmin"
    return 1.0, "deg"
