"""Sky footprints: the spherical polygon of an image's full pixel array.

Reproduces stcal's ``_calc_bounding_polygon`` sample for sample (pixel-edge
outline, ``stepsize`` sampling, forced closure) so that overlaps, and hence
the pixels used in every pair, are the reference's.
"""

import math

import numpy as np
from spherical_geometry.polygon import SingleSphericalPolygon, SphericalPolygon


def outline_pixels(shape, stepsize=None):
    """Pixel coordinates of the closed outline, counter-clockwise from (-0.5, -0.5).

    ``stepsize`` None gives the 4 corners; otherwise each side is sampled at
    most every ``stepsize`` pixels (the reference's ceil((n+1)/stepsize)
    points, so the actual spacing may be larger).
    """
    ny, nx = shape
    if stepsize is None:
        nint_x = nint_y = 2
    else:
        if stepsize <= 0:
            raise ValueError(f"stepsize must be a positive integer or None, not {stepsize}")
        nint_x = max(2, int(math.ceil((nx + 1.0) / stepsize)))
        nint_y = max(2, int(math.ceil((ny + 1.0) / stepsize)))
    xs = np.linspace(-0.5, nx - 0.5, nint_x, dtype=float)
    ys = np.linspace(-0.5, ny - 0.5, nint_y, dtype=float)[1:-1]
    x = np.concatenate([xs, np.full(ys.size, nx - 0.5), xs[::-1], np.full(ys.size, -0.5), xs[:1]])
    y = np.concatenate([np.full(xs.size, -0.5), ys, np.full(xs.size, ny - 0.5), ys[::-1], [-0.5]])
    return x, y


def footprint_polygon(shape, wcs, stepsize=None):
    """(SphericalPolygon, ra, dec) of the image outline through ``wcs``.

    ``wcs`` is a celestial astropy WCS; distortion (SIP, TPV) is included
    because the outline goes through ``all_pix2world``, as the reference's
    forward transform does.
    """
    x, y = outline_pixels(shape, stepsize)
    ra, dec = wcs.all_pix2world(x, y, 0)
    ra = np.array(ra, dtype=float)
    dec = np.array(dec, dtype=float)
    ra[-1] = ra[0]
    dec[-1] = dec[0]
    return SphericalPolygon.from_radec(ra, dec), ra, dec


def polygon_to_dict(polygon):
    """Exact, JSON-ready form of a SphericalPolygon: unit vectors of each part."""
    return {
        "parts": [
            {"points": np.asarray(part.points).tolist(), "inside": np.asarray(part.inside).tolist()}
            for part in polygon.polygons
        ]
    }


def polygon_from_dict(record):
    """Rebuild the SphericalPolygon written by :func:`polygon_to_dict`, bit for bit."""
    return SphericalPolygon(
        [
            SingleSphericalPolygon(np.array(part["points"], dtype=float), np.array(part["inside"], dtype=float))
            for part in record["parts"]
        ]
    )
