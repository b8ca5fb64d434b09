"""The seal of a FITS stage file: CHECKSUM/DATASUM cards in every HDU and the product key it was made under.

Apart from the product store (products/store.py, which seals JSON records)
so that the files written and read in io/ (masks, held-open files) need
nothing above io: a sealed file can be checked wherever it is read.
"""

from pathlib import Path

__all__ = ["fits_is_sound", "ones_complement_sum", "seal_fits"]


def seal_fits(hdul, key):
    """Name ``key`` in the last HDU's header (PRODKEY) and add CHECKSUM/DATASUM to every HDU.

    The checksum cards get a fixed comment, not astropy's timestamp, so the
    same product gives the same bytes.
    """
    hdul[-1].header["PRODKEY"] = key
    for hdu in hdul:
        hdu.add_checksum(when="seal of this HDU")
    return hdul


def fits_is_sound(path, key):
    """True when a FITS product exists, its checksums hold, and it was made under ``key``.

    Checked on the file's bytes, not through astropy's HDU objects: every
    HDU carries a CHECKSUM card (seal_fits), so the ones' complement sum of
    the whole file is -0 exactly when no HDU's sum changed, and PRODKEY's
    card must be there as written. astropy's verify_checksum re-serialises
    every header card to sum it (6 ms per file); this takes ~0.1 ms, and
    keeping a batch's unchanged products is mostly this check.
    """
    import numpy as np
    from astropy.io.fits import Card

    try:
        raw = Path(path).read_bytes()
    except OSError:
        return False
    if not raw or len(raw) % 2880 or raw[:9] != b"SIMPLE  =":
        return False
    return ones_complement_sum(np.frombuffer(raw, ">u4")) == 0xFFFFFFFF and Card("PRODKEY", key).image.encode() in raw


def ones_complement_sum(words):
    """The 32-bit ones' complement sum of big-endian words (the FITS checksum convention's arithmetic)."""
    total = int(words.sum(dtype="u8"))  # below 2**64 for files up to 2**32 words (16 GB)
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total
