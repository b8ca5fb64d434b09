"""Reading one image: SCI pixels, DQ, celestial WCS, and its sky group.

Files are always opened read-only. Every failure is an InputError naming the
file (and extension) and the reason, so a job dies with one clear line.

astropy's WCS is imported where a WCS is made, not at the top: Snakemake's
start imports this module for the header checks (io/headerchecks.py), and
``astropy.wcs`` brings ``astropy.coordinates``, ``astropy.table`` and ``asdf``
with it, about 0.3 s of the start (issue 29).
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from skymatchflow.errors import InputError
from skymatchflow.geometry.skyframe import footprint_wcs
from skymatchflow.io.inputs import AUTO_DQ, file_stem, first_image_index, parse_extension
from skymatchflow.io.pinnedfiles import pinned_path

if TYPE_CHECKING:
    from astropy.wcs import WCS

# meta.observation attributes of the JWST group id, as FITS keywords, in the
# order of jwst's attrs_to_group_id.
JWST_EXPOSURE_KEYWORDS = ("PROGRAM", "OBSERVTN", "VISIT", "VISITGRP", "SEQ_ID", "ACT_ID", "EXPOSURE")


@dataclass
class ImageHeader:
    """What the footprint needs: shape, celestial WCS, headers."""

    shape: tuple
    wcs: WCS  # in the footprint frame: or a skyframe.IcrsWcs or skywcs.GwcsAdapter (same two calls)
    primary: fits.Header
    sci: fits.Header
    wcs_kind: str = "fits"  # 'gwcs' or 'fits' (skywcs.choose_wcs)
    wcs_reason: str = ""
    fits_wcs: WCS = None  # the header's own celestial WCS, whichever ``wcs`` the policy chose

    def __post_init__(self):
        if self.fits_wcs is None:
            self.fits_wcs = self.wcs


def _open(path, scaled=True):
    """``path`` opened read-only; ``scaled=False``: its image pixels as stored (see _stored_pixels)."""
    try:
        # a pinned input is read through the descriptor it was hashed through (io/pinnedfiles.py)
        return fits.open(pinned_path(path), mode="readonly", memmap=False, lazy_load_hdus=True,
                         do_not_scale_image_data=not scaled)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, ValueError) as err:
        raise InputError(path, f"not a readable FITS file ({err})") from None


def _hdu(hdul, path, ext):
    try:
        return hdul[parse_extension(ext)]
    except (KeyError, IndexError):
        raise InputError(path, f"no extension {ext!r}") from None


def _image_shape(hdu, path, ext):
    naxis = hdu.header.get("NAXIS", 0)
    if not getattr(hdu, "is_image", False):
        kind = hdu.header.get("XTENSION", type(hdu).__name__)
        raise InputError(path, f"extension {ext!r} is a {str(kind).strip()} table, not an image")
    if naxis != 2:
        raise InputError(path, f"extension {ext!r} is not a 2-D image (NAXIS={naxis})")
    return (hdu.header["NAXIS2"], hdu.header["NAXIS1"])


# Primary-WCS keywords that must hold a finite number when present: wcslib
# drops an unparsable one (CRVAL1 = NAN) and silently uses its default.
SINGULAR = "the WCS pixel matrix (CD or PC*CDELT) is singular; pixels have no area on the sky"
WCS_NUMBER_KEYWORD = re.compile(r"^(?:(?:CRVAL|CRPIX|CDELT|CROTA)\d+|(?:CD|PC|PV)\d+_\d+|LONPOLE|LATPOLE)$")


def _check_wcs_numbers(header, path, ext):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # astropy "fixes" NAN to a string
        for card in header.cards:
            if not WCS_NUMBER_KEYWORD.match(card.keyword):
                continue
            try:
                value = card.value
            except Exception:  # astropy's VerifyError for an unparsable value
                value = card.image[10:].split("/", 1)[0].strip()
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                shown = value.strip("' ") if isinstance(value, str) else value
                raise InputError(path, f"extension {ext!r}: WCS keyword {card.keyword} = {shown} is not a finite number")
    cd = [header.get(f"CD{i}_{j}") for i, j in ((1, 1), (1, 2), (2, 1), (2, 2))]
    if any(value is not None for value in cd):
        a, b, c, d = (value or 0.0 for value in cd)
        if a * d - b * c == 0.0:  # wcslib would drop an all-zero CD and use 1-degree pixels
            raise InputError(path, f"extension {ext!r}: {SINGULAR}")


def _check_header_matrix(header, path, ext):
    """PC*CDELT (when there is no CD) from the header alone: singular if its determinant is 0."""
    if any(key.startswith("CD") and "_" in key for key in header):
        return  # _check_wcs_numbers checked the CD matrix
    pc = [header.get(f"PC{i}_{j}", 1.0 if i == j else 0.0) for i, j in ((1, 1), (1, 2), (2, 1), (2, 2))]
    det = (pc[0] * pc[3] - pc[1] * pc[2]) * header.get("CDELT1", 1.0) * header.get("CDELT2", 1.0)
    if det == 0.0:
        raise InputError(path, f"extension {ext!r}: {SINGULAR}")


def check_image_header(hdul, path, ext):
    """What one image's header reveals without its pixels or a WCS object (cheap at start).

    The extension exists and is a 2-D image, its WCS numbers are finite and
    its pixel matrix is not singular; the same messages as the image job's.
    """
    hdu = _hdu(hdul, path, ext)
    _image_shape(hdu, path, ext)
    _check_wcs_numbers(hdu.header, path, ext)
    _check_header_matrix(hdu.header, path, ext)


def check_dq_header(hdul, path, ext):
    """A DQ extension named explicitly exists and is a 2-D image."""
    _image_shape(_hdu(hdul, path, ext), path, ext)


def _check_wcs_matrix(wcs, path, ext):
    """A singular or non-finite CD/PC matrix maps the image to a point or a line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matrix = wcs.pixel_scale_matrix
    det = float(matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0])
    if not math.isfinite(det) or det == 0.0:
        raise InputError(path, f"extension {ext!r}: {SINGULAR}")


def celestial_wcs(header, path, ext, hdul=None):
    """The celestial part of the header's FITS WCS (SIP/TPV included)."""
    from astropy.wcs import WCS, FITSFixedWarning

    _check_wcs_numbers(header, path, ext)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header, fobj=hdul, relax=True)
    except Exception as err:  # astropy raises several types for bad WCS
        raise InputError(path, f"extension {ext!r}: unreadable WCS ({err})") from None
    if not wcs.has_celestial:
        raise InputError(path, f"extension {ext!r}: no celestial WCS in the header")
    celestial = wcs.celestial  # a new WCS at each access: made once
    _check_wcs_matrix(celestial, path, ext)
    return celestial


def read_header(spec, wcs_policy="fits", hdul=None):
    """Shape, WCS and headers of one image, without reading its pixels.

    ``wcs_policy`` 'gwcs' takes the gwcs of a JWST file's ASDF extension
    where there is one (skywcs.choose_wcs); 'fits' the header's WCS.
    ``hdul``: the file already open (left open), else it is opened here.
    """
    with contextlib.nullcontext(hdul) if hdul is not None else _open(spec.file) as hdul:
        hdu = _hdu(hdul, spec.file, spec.sci)
        shape = _image_shape(hdu, spec.file, spec.sci)
        wcs = celestial_wcs(hdu.header, spec.file, spec.sci, hdul)
        sky_wcs = footprint_wcs(wcs, spec.file, spec.sci)  # in ICRS, RA first
        chosen = None
        if wcs_policy != "fits":
            from skymatchflow.geometry.skywcs import choose_wcs

            chosen = choose_wcs(hdul, spec.file, spec.sci == "SCI", sky_wcs, wcs_policy)
        header = ImageHeader(shape, sky_wcs, hdul[0].header.copy(), hdu.header.copy(), fits_wcs=wcs)
        if chosen is not None:
            header.wcs, header.wcs_kind, header.wcs_reason = chosen.wcs, chosen.kind, chosen.reason
        else:
            header.wcs_reason = "the run's WCS policy is 'fits'"
        return header


def _read_array(hdul, path, ext, dtype, stored=False):
    """The pixels of extension ``ext`` as ``dtype``, scaled as astropy scales them.

    ``stored``: ``hdul`` was opened with ``scaled=False``; its pixels are
    taken as stored where that is what astropy's scaling would give, and the
    file is opened again to let astropy scale them where it is not.
    """
    hdu = _hdu(hdul, path, ext)
    _image_shape(hdu, path, ext)
    try:
        data = _stored_pixels(hdu) if stored else hdu.data
    except Exception as err:
        raise InputError(path, f"extension {ext!r}: unreadable data ({err})") from None
    if data is None:
        with _open(path) as scaled:
            return _read_array(scaled, path, ext, dtype)
    if dtype == np.uint32:
        _check_dq_values(data, path, ext)
    return np.asarray(data, dtype=dtype)


PSEUDO_UNSIGNED_32 = 1 << 31  # BZERO of 32-bit unsigned integers stored as signed ones (JWST's DQ)


def _stored_pixels(hdu):
    """The pixels of an HDU opened with ``scaled=False``, equal to astropy's scaled ones, or None.

    Why: astropy turns the stored signed integers of a uint32 DQ (BZERO =
    2**31) into unsigned ones with a cast and a subtraction: 16 ms to read a
    2048x2048 DQ; flipping the top bit of the stored bits gives the same
    numbers, read in about 8 ms. Unscaled pixels (no BSCALE, BZERO or BLANK)
    are the stored ones. None for anything else (other scalings, BLANK,
    compressed HDUs): astropy scales those.
    """
    if type(hdu) not in (fits.PrimaryHDU, fits.ImageHDU) or "BLANK" in hdu.header:
        return None
    bitpix, bscale, bzero = hdu.header["BITPIX"], hdu.header.get("BSCALE", 1), hdu.header.get("BZERO", 0)
    if bscale == 1 and bzero == 0:
        return hdu.data
    if bitpix == 32 and bscale == 1 and bzero == PSEUDO_UNSIGNED_32:
        stored = hdu.data  # big-endian signed: its bits, top bit flipped, are the unsigned value
        return np.bitwise_xor(stored.view(">u4"), np.uint32(PSEUDO_UNSIGNED_32), out=np.empty(stored.shape, np.uint32))
    return None


def _check_dq_values(data, path, ext):
    """DQ is a bit field: floating-point or negative values would be cast to other bits."""
    if data.dtype.kind == "f":
        raise InputError(
            path, f"extension {ext!r}: DQ holds floating-point values ({data.dtype.name}); DQ must be an integer bit field"
        )
    if data.dtype.kind == "i" and data.size and data.min() < 0:
        raise InputError(path, f"extension {ext!r}: DQ holds negative values; DQ must be a non-negative bit field")
    if data.dtype.itemsize > 4 and data.size and data.max() > np.iinfo(np.uint32).max:
        raise InputError(path, f"extension {ext!r}: DQ holds values above 32 bits; DQ flags are 32-bit")


def _first_image_extension(hdul):
    index = first_image_index(hdu.header.get("NAXIS", 0) if hdu.is_image else 0 for hdu in hdul)
    return str(index or 0)


def read_sci(spec):
    """SCI of one image as float32 (for stages that already have its mask)."""
    with _open(spec.file, scaled=False) as hdul:
        return _read_array(hdul, spec.file, spec.sci, np.float32, stored=True)


def read_sci_dq(spec):
    """(SCI as float32, DQ as uint32 or None) of one image, read once.

    The DQ comes from an extension of the same file, or from a separate file;
    its shape must equal SCI's.
    """
    with _open(spec.file, scaled=False) as hdul:
        sci = _read_array(hdul, spec.file, spec.sci, np.float32, stored=True)
        dq = None
        dq_ext = spec.dq
        if dq_ext == AUTO_DQ:
            ver = _hdu(hdul, spec.file, spec.sci).ver
            dq_ext = f"DQ,{ver}" if ("DQ", ver) in hdul else ""
        if dq_ext and not spec.dq_file:
            dq = _read_array(hdul, spec.file, dq_ext, np.uint32, stored=True)
            dq_source = f"{spec.file}[{dq_ext}]"
    if spec.dq_file:
        with _open(spec.dq_file, scaled=False) as dq_hdul:
            ext = spec.dq if spec.dq not in ("", AUTO_DQ) else _first_image_extension(dq_hdul)
            dq = _read_array(dq_hdul, spec.dq_file, ext, np.uint32, stored=True)
            dq_source = f"{spec.dq_file}[{ext}]"
    if dq is not None and dq.shape != sci.shape:
        raise InputError(
            dq_source, f"DQ shape {dq.shape} differs from SCI shape {sci.shape} of {spec.file}"
        )
    return sci, dq


def group_id(spec, primary, sci_header, grouping):
    """The sky group of one image.

    The sheet's explicit group wins. ``exposure``: the JWST group id built
    from the exposure keywords (all detectors of one exposure together), or
    the file (all chips of one file together) when the keywords are absent.
    ``none``: every image alone. Anything else names a header keyword.
    """
    if spec.group:
        return spec.group
    if grouping == "none":
        return spec.image
    if grouping == "exposure":
        values = [primary.get(key) for key in JWST_EXPOSURE_KEYWORDS]
        if all(value is not None for value in values):
            prog, obs, visit, visit_group, seq, act, expo = (str(v).strip() for v in values)
            return f"jw{prog}{obs}{visit}_{visit_group}{seq}{act}_{expo}"
        return file_stem(spec.file)
    for header in (primary, sci_header):
        if grouping in header:
            return str(header[grouping]).strip()
    raise InputError(spec.file, f"grouping keyword {grouping!r} is in neither the primary nor the SCI header")


def previous_background(primary, sci_header):
    """BKGLEVEL / BKGSUB left by an earlier sky-matching run (None when absent).

    JWST keeps them in the primary header; a chip of a multi-chip file may
    carry its own in its SCI header, which then wins.
    """
    level = sci_header.get("BKGLEVEL", primary.get("BKGLEVEL"))
    subtracted = sci_header.get("BKGSUB", primary.get("BKGSUB"))
    if level is not None and (isinstance(level, (bool, str)) or not math.isfinite(float(level))):
        raise ValueError(f"BKGLEVEL = {level!r} is not a finite number")
    if subtracted is not None and not isinstance(subtracted, bool):
        raise ValueError(f"BKGSUB = {subtracted!r} is not T or F")
    if (level is None) != (subtracted is None):
        present, absent = ("BKGLEVEL", "BKGSUB") if subtracted is None else ("BKGSUB", "BKGLEVEL")
        raise ValueError(f"{present} is set but {absent} is not (inconsistent earlier sky run)")
    return {
        "level": None if level is None else float(level),
        "subtracted": subtracted,
    }
