"""One image as the pair statistics read it: its geometry, and its pixels over an overlap's window only.

Shared by the reference's overlap statistics (pairstats.py) and the
pixel-wise differences (_pairdifference.py), so that neither imports the other.
"""

from dataclasses import dataclass, field

import numpy as np
from astropy.io import fits
from astropy.wcs import NoConvergence

from skymatchflow.errors import InputError
from skymatchflow.io.inputs import WHOLE_FILE_COMPRESSION, ImageSpec, parse_extension
from skymatchflow.io.openfiles import held, read_window
from skymatchflow.io.readers import read_header

__all__ = ["PairImage", "load_pair_image", "pixel_coordinates", "read_full", "read_pixels", "union_window"]


@dataclass
class PairImage:
    """One image as the pair stage needs it: where its pixels are, and its geometry."""

    image: str
    file: str
    sci: object  # extension as astropy indexes it
    shape: tuple
    wcs: object  # celestial astropy WCS
    polygon: object  # SphericalPolygon footprint
    mask_path: str
    pixels: object = field(default=None, repr=False)  # whole SCI, only for compressed files


def load_pair_image(image, path, sci, polygon, mask_path, wcs_kind="fits"):
    """A PairImage: its footprint polygon, and shape and WCS from the file.

    ``wcs_kind``: the WCS its footprint was made with ('gwcs' or 'fits', the
    footprint record's "wcs"), so that overlaps map back through the same one.
    The header is read through the handle its windows will be read from
    (io/openfiles), except in a compressed file, read whole once.
    """
    compressed = path.lower().endswith(WHOLE_FILE_COMPRESSION)
    header = read_header(ImageSpec(image, path, sci), wcs_kind, None if compressed else held(path))
    if header.wcs_kind != wcs_kind:
        raise InputError(
            path, f"the footprint used the {wcs_kind} WCS but it is the {header.wcs_kind} one now "
            f"({header.wcs_reason}); re-run so that the footprints are made again"
        )
    return PairImage(image, path, parse_extension(sci), header.shape, header.wcs, polygon, str(mask_path))


# Compressed files cannot be read by region: a section read seeks in the
# stream and decompresses it again and again. Their SCI is read whole, once.


def read_full(image):
    """A compressed file's whole SCI, float32."""
    with fits.open(image.file, mode="readonly", memmap=False) as hdul:
        return np.array(hdul[image.sci].data, dtype=np.float32)


def read_pixels(image, window):
    """SCI and mask over ``window`` only (the whole SCI once for a compressed file)."""
    row0, row1, col0, col1 = window
    if image.file.lower().endswith(WHOLE_FILE_COMPRESSION):
        if image.pixels is None:
            image.pixels = read_full(image)
        sci = image.pixels[row0:row1, col0:col1]
    else:
        sci = read_window(image.file, image.sci, window, np.float32)
    return sci, read_window(image.mask_path, "MASK", window, bool)


def union_window(windows):
    """The smallest window (row0, row1, col0, col1) holding every one of ``windows``."""
    return (
        min(w[0] for w in windows),
        max(w[1] for w in windows),
        min(w[2] for w in windows),
        max(w[3] for w in windows),
    )


def pixel_coordinates(image, pieces):
    """The overlap pieces (ra, dec) in ``image``'s pixel coordinates, or None if its WCS cannot map them."""
    out = []
    for ra, dec in pieces:
        if len(ra) < 4:
            continue
        try:
            x, y = image.wcs.all_world2pix(ra, dec, 0)
        except NoConvergence:
            return None
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            return None
        out.append((x, y))
    return out
