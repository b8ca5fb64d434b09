"""The good-pixel mask stage file: FITS uint8 (1 = use the pixel).

Uncompressed so that later stages can read only the rows and columns of an
overlap (memory-mapped) rather than the whole array. It seals itself with
FITS CHECKSUM/DATASUM cards and names its product key (PRODKEY), so a
damaged or foreign mask is noticed by whoever reads it.
"""

import json

import numpy as np
from astropy.io import fits

from skymatchflow.io._fitsregion import read_region
from skymatchflow.io.fitsseal import seal_fits
from skymatchflow.io.stagefiles import atomic_path


def write_mask(path, mask, image, provenance, key=""):
    """Write ``mask`` (bool array) with its key and provenance in the header, sealed."""
    header = fits.Header()
    header["EXTNAME"] = "MASK"
    header["IMAGE"] = (image, "image id (workflow wildcard)")
    header["NGOOD"] = (int(np.count_nonzero(mask)), "pixels usable for sky statistics")
    header["NPIX"] = (int(mask.size), "pixels in the array")
    header["PROVENAN"] = json.dumps(provenance, sort_keys=True)
    stored = mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8)  # a bool is one byte, 0 or 1
    hdul = seal_fits(fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(stored, header=header)]), key)
    with atomic_path(path) as tmp:
        hdul.writeto(tmp, output_verify="exception")


def read_mask(path, window=None):
    """The mask as a bool array, whole or only ``window`` (row0, row1, col0, col1)."""
    with fits.open(path, mode="readonly", memmap=True) as hdul:
        return read_region(hdul["MASK"], window, bool)
