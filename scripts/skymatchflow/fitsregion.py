"""Read a rectangle of a FITS image HDU without reading the rest of it.

astropy's ``section`` reads a 2-D window one row at a time (tens of
thousands of small reads for a tall overlap strip); a memory-mapped
``data`` array reads the same pages in one slice. ``section`` is kept for
what memory mapping cannot do lazily: scaled integers (BSCALE/BZERO/BLANK,
which would be applied to the whole array) and compressed HDUs.
"""

import numpy as np
from astropy.io import fits

SCALING_KEYWORDS = ("BSCALE", "BZERO", "BLANK")


def read_region(hdu, window, dtype):
    """``hdu``'s pixels over ``window`` = (row0, row1, col0, col1), or all of them if None."""
    row0, row1, col0, col1 = window if window is not None else (0, None, 0, None)
    scaled = any(key in hdu.header for key in SCALING_KEYWORDS)
    if scaled or isinstance(hdu, fits.CompImageHDU):
        return np.array(hdu.section[row0:row1, col0:col1], dtype=dtype)
    return np.array(hdu.data[row0:row1, col0:col1], dtype=dtype)
