"""A small binned preview of one image, for the diagnostics' mosaic pictures.

Made in the per-image stage while SCI and the good-pixel mask are in memory,
so the diagnostics stage never reads a full image again. Each preview pixel
is the median of the good pixels of a square bin (NaN when the bin has none);
the bin is the smallest integer that brings the longer side to at most
``PREVIEW_SIZE`` pixels. The preview carries a celestial TAN WCS of the binned
grid, fitted through the image's own WCS (distortion included) at the bin
centres, so any library can reproject it.
"""

import json
import math
import warnings

import numpy as np

from .stagefiles import atomic_path

# astropy is imported inside the functions: the workflow imports this module at start-up.
PREVIEW_SIZE = 48  # pixels along the longer side at most: 9 KB of float32


def bin_factor(shape, size=PREVIEW_SIZE):
    """The integer bin that brings the longer side of ``shape`` to at most ``size``."""
    return max(1, math.ceil(max(shape) / size))


def binned_median(sci, mask, factor):
    """Median of the good pixels of each ``factor`` x ``factor`` bin, float32, NaN without any."""
    ny, nx = sci.shape
    by, bx = math.ceil(ny / factor), math.ceil(nx / factor)
    padded = np.full((by * factor, bx * factor), np.nan, np.float32)
    padded[:ny, :nx] = np.where(mask, sci, np.nan)
    blocks = padded.reshape(by, factor, bx, factor).transpose(0, 2, 1, 3).reshape(by, bx, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bins are NaN, as intended
        return np.nanmedian(blocks, axis=2).astype(np.float32)


def binned_wcs(wcs, shape, factor):
    """A TAN WCS of the binned grid, fitted through ``wcs`` at the bin centres."""
    from astropy.coordinates import SkyCoord
    from astropy.wcs.utils import fit_wcs_from_points

    by, bx = math.ceil(shape[0] / factor), math.ceil(shape[1] / factor)
    jj, ii = np.meshgrid(np.linspace(0, bx - 1, min(bx, 8)), np.linspace(0, by - 1, min(by, 8)))
    # centre of binned pixel j in the original pixels: factor * j + (factor - 1) / 2
    ra, dec = wcs.all_pix2world(factor * jj.ravel() + (factor - 1) / 2, factor * ii.ravel() + (factor - 1) / 2, 0)
    world = SkyCoord(ra, dec, unit="deg", frame=_frame(wcs))
    return fit_wcs_from_points((jj.ravel(), ii.ravel()), world, proj_point="center", projection="TAN")


def _frame(wcs):
    from astropy.wcs.utils import wcs_to_celestial_frame

    try:
        return wcs_to_celestial_frame(wcs)
    except ValueError:  # no frame given: ICRS, as the footprints assume
        return "icrs"


def make_preview(sci, mask, wcs, size=PREVIEW_SIZE):
    """(binned data, binned WCS) of one image: masked pixels excluded, longer side <= ``size``."""
    factor = bin_factor(sci.shape, size)
    return binned_median(sci, mask, factor), binned_wcs(wcs, sci.shape, factor), factor


def write_preview(path, sci, mask, wcs, image_id, provenance, bunit=None, size=PREVIEW_SIZE):
    """Write the preview FITS: the binned data and WCS in the primary HDU, provenance in its header."""
    from astropy.io import fits

    data, binned, factor = make_preview(sci, mask, wcs, size)
    header = binned.to_header()
    header["IMAGE"] = (image_id, "image id (workflow wildcard)")
    header["BINNING"] = (factor, "image pixels per preview pixel, each axis")
    if bunit:
        header["BUNIT"] = bunit
    header["PROVENAN"] = json.dumps(provenance, sort_keys=True)
    with atomic_path(path) as tmp:
        fits.PrimaryHDU(data, header=header).writeto(tmp, output_verify="exception")


def write_image_preview(path, spec, sci, mask, provenance):
    """The per-image stage's hook: the preview of ``spec`` from its SCI and mask already in memory.

    Reads only the image's header again (its WCS and BUNIT).
    """
    from .readers import read_header

    header = read_header(spec)
    write_preview(path, sci, mask, header.wcs, spec.image_id, provenance, header.sci.get("BUNIT"))


def read_preview(path):
    """(data, celestial WCS, header) of a preview file."""
    from astropy.io import fits
    from astropy.wcs import WCS, FITSFixedWarning

    with fits.open(path, mode="readonly", memmap=False) as hdul:
        header = hdul[0].header.copy()
        data = hdul[0].data.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return data, WCS(header).celestial, header


def read_preview_provenance(path):
    """The provenance record stored in a preview's header."""
    from astropy.io import fits

    return json.loads(fits.getheader(path, 0)["PROVENAN"])
