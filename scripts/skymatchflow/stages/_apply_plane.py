"""Matched copies under ``sky_model: plane``: the plane subtracted pixel by pixel and recorded.

Why apart from apply_sky.py: the constant path stays the reference's. A
plane row of the sky table (solve/plane_model.py) gives the sky at every
pixel: each pixel centre is mapped to the sky through the image's WCS (the
one its footprint used, as the pair stage located the differences) and the
plane is evaluated there on the tangent plane at the stated reference
point. The copy records the plane: FITS keywords beside BKGLEVEL (which
keeps its meaning, the level at the reference point), or for a JWST cal
file a history entry (its data model's background has no place for tilts).
"""

import numpy as np

from skymatchflow.errors import InputError
from skymatchflow.io.inputs import parse_extension
from skymatchflow.solve.plane_model import columns_of, has_plane, plane_at

#: FITS keywords of a plane (BKGLEVEL holds its level at the reference point)
PLANE_KEYWORDS = {
    "BKGMODEL": ("sky_model", "Background model: constant or plane"),
    "BKGTLTX": ("plane_tilt_x", "Plane background change per deg towards east"),
    "BKGTLTY": ("plane_tilt_y", "Plane background change per deg towards north"),
    "BKGRA0": ("plane_ra0", "[deg] Plane reference point RA (ICRS, tangent)"),
    "BKGDEC0": ("plane_dec0", "[deg] Plane reference point Dec (ICRS, tangent)"),
}


def plane_map(row, shape, pixel_to_sky):
    """The plane of ``row`` at every pixel of an image of ``shape``; ``pixel_to_sky(x, y) -> (ra, dec)``, 0-based."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    ra, dec = pixel_to_sky(xx.ravel().astype(float), yy.ravel().astype(float))
    return np.asarray(plane_at(row, np.asarray(ra), np.asarray(dec)), float).reshape(shape)


def fits_pixel_to_sky(header, path="", ext=""):
    """``pixel_to_sky`` of a FITS image header's celestial WCS, in ICRS as the footprints (geometry/skyframe)."""
    from astropy.wcs import WCS

    from skymatchflow.geometry.skyframe import footprint_wcs

    wcs = footprint_wcs(WCS(header).celestial, path, ext)
    return lambda x, y: wcs.all_pix2world(x, y, 0)


def image_pixel_to_sky(hdul, row, path):
    """``pixel_to_sky`` through the WCS the row's footprint used (sky table column ``wcs``): the gwcs or the header's.

    A JWST cal file's gwcs is called as the pair stage calls it
    (geometry/skywcs.GwcsAdapter: its bounding box ignored).
    """
    if "wcs" in columns_of(row) and row["wcs"] == "gwcs":
        from skymatchflow.geometry.skywcs import GwcsAdapter, read_gwcs

        gwcs_object = read_gwcs(hdul, str(path))
        if gwcs_object is None:
            raise InputError(str(path), "sky_model plane: the footprint used a gwcs but the ASDF extension has none now")
        adapter = GwcsAdapter(gwcs_object)
        return lambda x, y: adapter.all_pix2world(x, y, 0)
    return fits_pixel_to_sky(hdul[parse_extension(row["sci"])].header, str(path), row["sci"])


def record_plane(header, row):
    """Write the plane's keywords into ``header``."""
    for keyword, (column, comment) in PLANE_KEYWORDS.items():
        header[keyword] = ("plane" if column == "sky_model" else float(row[column]), comment)


#: FITS HISTORY card width: stdatamodels reads a cal file's history back from its cards, so a longer
#: entry would come back cut in pieces
HISTORY_WIDTH = 72


def plane_history(row):
    """The history entries that record a plane in a JWST cal file, each at most HISTORY_WIDTH characters."""
    return [
        "skymatchflow sky_model plane: sky = level + tilt_x * x + tilt_y * y",
        "x east, y north in deg on the tangent plane at the reference point",
        f"plane reference point RA {float(row['plane_ra0']):.9f} Dec {float(row['plane_dec0']):.9f} (ICRS)",
        f"plane level {float(row['delta_match']):.9g} (the sky at the reference point)",
        f"plane tilt_x {float(row['plane_tilt_x']):.9g} tilt_y {float(row['plane_tilt_y']):.9g} (per deg)",
    ]


def plane_changes(row, shape, pixel_to_sky):
    """The changes apply_sky subtracts for a plane row: the plane map (after the match stage, only one)."""
    return [plane_map(row, shape, pixel_to_sky)]


__all__ = ["has_plane", "plane_changes", "plane_history", "record_plane", "fits_pixel_to_sky", "image_pixel_to_sky"]
