"""Read a rectangle of a FITS image HDU without reading the rest of it.

astropy's ``section`` reads a 2-D window one row at a time (tens of
thousands of small reads for a tall overlap strip); a memory-mapped
``data`` array reads the same pages in one slice. ``section`` is kept for
what memory mapping cannot do lazily: scaled integers (BSCALE/BZERO/BLANK,
which would be applied to the whole array) and compressed HDUs; a scaled
HDU's section needs a file opened without memory mapping (astropy refuses
to memory-map scaled data), which :func:`read_file_region` takes care of.
"""

import numpy as np
from astropy.io import fits

SCALING_KEYWORDS = ("BSCALE", "BZERO", "BLANK")


def is_scaled(hdu):
    """Whether astropy applies BSCALE/BZERO/BLANK to ``hdu``'s stored values."""
    return any(key in hdu.header for key in SCALING_KEYWORDS)


def read_file_region(path, ext, window, dtype):
    """``read_region`` of extension ``ext`` of the file ``path`` (opened read-only)."""
    with fits.open(path, mode="readonly", memmap=True) as hdul:
        hdu = hdul[ext]
        if not is_scaled(hdu) or isinstance(hdu, fits.CompImageHDU):
            return read_region(hdu, window, dtype)
    with fits.open(path, mode="readonly", memmap=False) as hdul:
        return read_region(hdul[ext], window, dtype)


def read_region(hdu, window, dtype):
    """``hdu``'s pixels over ``window`` = (row0, row1, col0, col1), or all of them if None."""
    row0, row1, col0, col1 = window if window is not None else (0, None, 0, None)
    if is_scaled(hdu) or isinstance(hdu, fits.CompImageHDU):
        return np.array(hdu.section[row0:row1, col0:col1], dtype=dtype)
    return np.array(hdu.data[row0:row1, col0:col1], dtype=dtype)
