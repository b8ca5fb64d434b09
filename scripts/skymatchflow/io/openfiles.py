"""FITS files held open (memory-mapped) across the pairs of a batch.

A pair batch reads a window of each member's SCI and mask once per pair it
is in (about five pairs per image in a survey); opening the file and parsing
its headers each time cost more than reading the window. Handles are kept
in a small least-recently-used set (MAX_OPEN files, MAX_HELD_BYTES bytes),
keyed by the file's identity (inode, size, mtime) so that a file replaced
under the same name is opened afresh.
Scaled and compressed HDUs, which a memory map cannot serve lazily, are
read as fitsregion reads them. The pair stage also checks a mask's seal and
reads an image's header and WCS through the same handle (one open per file).
astropy is imported on the first open, not with this module: a pair batch
whose pairs are all found in the product store opens no file and so pays
no astropy import (most of such a job's time).
"""

import contextlib
import os
from collections import OrderedDict

from skymatchflow.errors import InputError

#: open files at most (two per image: SCI and mask), well under the usual limit of 1024
MAX_OPEN = 128
#: bytes of held files at most: the pages a memory map has read stay in the job's resident memory while it is
#: held, so large images (16 MB per 2048x2048 SCI) are let go sooner than small ones (a job stays near 300 MB)
MAX_HELD_BYTES = 128 * 2**20

_open = OrderedDict()


def _identity(path):
    info = os.stat(path)
    return (str(path), info.st_ino, info.st_size, info.st_mtime_ns)


def held(path):
    """The HDUList of ``path`` (memory-mapped), opened once while the file is unchanged; do not close it."""
    key = _identity(path)
    hdul = _open.pop(key, None)
    if hdul is None:
        from astropy.io import fits

        try:
            hdul = fits.open(path, mode="readonly", memmap=True)
        except (OSError, ValueError) as err:
            raise InputError(path, f"not a readable FITS file ({err})") from None
    _open[key] = hdul
    while len(_open) > MAX_OPEN or (len(_open) > 1 and sum(size for _, _, size, _ in _open) > MAX_HELD_BYTES):
        _open.popitem(last=False)[1].close()
    return hdul


def held_fits_is_sound(path, key):
    """``fitsseal.fits_is_sound(path, key)`` for a file also held open, so that the pairs' reads do not open it again.

    The check reads the file's bytes by name; the handle must be of that same
    file (identity unchanged around the check), else the file is not sound.
    """
    from skymatchflow.io.fitsseal import fits_is_sound

    try:
        identity = _identity(path)
        held(path)
        return fits_is_sound(path, key) and _identity(path) == identity
    except (InputError, OSError):
        return False


def read_window(path, ext, window, dtype):
    """``read_file_region(path, ext, window, dtype)``, from a handle kept open while the file is unchanged."""
    from astropy.io import fits

    from skymatchflow.io._fitsregion import is_scaled, read_file_region, read_region

    hdu = held(path)[ext]
    if is_scaled(hdu) or isinstance(hdu, fits.CompImageHDU):
        return read_file_region(path, ext, window, dtype)
    return read_region(hdu, window, dtype)


def close_all():
    """Close every held file (end of a batch)."""
    while _open:
        _open.popitem()[1].close()


@contextlib.contextmanager
def held_files_closed():
    """Close the files held open by :func:`read_window` when the block ends."""
    try:
        yield
    finally:
        close_all()
