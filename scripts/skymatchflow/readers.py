"""Reading one image: SCI pixels, DQ, celestial WCS, and its sky group.

Files are always opened read-only. Every failure is an InputError naming the
file (and extension) and the reason, so a job dies with one clear line.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from .errors import InputError
from .inputs import AUTO_DQ, file_stem, first_image_index, parse_extension

# meta.observation attributes of the JWST group id, as FITS keywords, in the
# order of jwst's attrs_to_group_id.
JWST_EXPOSURE_KEYWORDS = ("PROGRAM", "OBSERVTN", "VISIT", "VISITGRP", "SEQ_ID", "ACT_ID", "EXPOSURE")


@dataclass
class ImageHeader:
    """What the footprint needs: shape, celestial WCS, headers."""

    shape: tuple
    wcs: WCS  # or a skywcs.GwcsAdapter (same two calls)
    primary: fits.Header
    sci: fits.Header
    wcs_kind: str = "fits"  # 'gwcs' or 'fits' (skywcs.choose_wcs)
    wcs_reason: str = ""


def _open(path):
    try:
        return fits.open(path, mode="readonly", memmap=False, lazy_load_hdus=True)
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
    if not getattr(hdu, "is_image", False) or naxis != 2:
        raise InputError(path, f"extension {ext!r} is not a 2-D image (NAXIS={naxis})")
    return (hdu.header["NAXIS2"], hdu.header["NAXIS1"])


def celestial_wcs(header, path, ext, hdul=None):
    """The celestial part of the header's FITS WCS (SIP/TPV included)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(header, fobj=hdul, relax=True)
    except Exception as err:  # astropy raises several types for bad WCS
        raise InputError(path, f"extension {ext!r}: unreadable WCS ({err})") from None
    if not wcs.has_celestial:
        raise InputError(path, f"extension {ext!r}: no celestial WCS in the header")
    return wcs.celestial


def read_header(spec, wcs_policy="fits"):
    """Shape, WCS and headers of one image, without reading its pixels.

    ``wcs_policy`` 'gwcs' takes the gwcs of a JWST file's ASDF extension
    where there is one (skywcs.choose_wcs); 'fits' the header's WCS.
    """
    with _open(spec.path) as hdul:
        hdu = _hdu(hdul, spec.path, spec.sci)
        shape = _image_shape(hdu, spec.path, spec.sci)
        wcs = celestial_wcs(hdu.header, spec.path, spec.sci, hdul)
        chosen = None
        if wcs_policy != "fits":
            from .skywcs import choose_wcs

            chosen = choose_wcs(hdul, spec.path, spec.sci == "SCI", wcs, wcs_policy)
        header = ImageHeader(shape, wcs, hdul[0].header.copy(), hdu.header.copy())
        if chosen is not None:
            header.wcs, header.wcs_kind, header.wcs_reason = chosen.wcs, chosen.kind, chosen.reason
        else:
            header.wcs_reason = "the run's WCS policy is 'fits'"
        return header


def _read_array(hdul, path, ext, dtype):
    hdu = _hdu(hdul, path, ext)
    _image_shape(hdu, path, ext)
    try:
        data = hdu.data
    except Exception as err:
        raise InputError(path, f"extension {ext!r}: unreadable data ({err})") from None
    return np.asarray(data, dtype=dtype)


def _first_image_extension(hdul):
    index = first_image_index(hdu.header.get("NAXIS", 0) for hdu in hdul)
    return str(index or 0)


def read_sci(spec):
    """SCI of one image as float32 (for stages that already have its mask)."""
    with _open(spec.path) as hdul:
        return _read_array(hdul, spec.path, spec.sci, np.float32)


def read_sci_dq(spec):
    """(SCI as float32, DQ as uint32 or None) of one image, read once.

    The DQ comes from an extension of the same file, or from a separate file;
    its shape must equal SCI's.
    """
    with _open(spec.path) as hdul:
        sci = _read_array(hdul, spec.path, spec.sci, np.float32)
        dq = None
        dq_ext = spec.dq
        if dq_ext == AUTO_DQ:
            ver = _hdu(hdul, spec.path, spec.sci).ver
            dq_ext = f"DQ,{ver}" if ("DQ", ver) in hdul else ""
        if dq_ext and not spec.dq_file:
            dq = _read_array(hdul, spec.path, dq_ext, np.uint32)
            dq_source = f"{spec.path}[{dq_ext}]"
    if spec.dq_file:
        with _open(spec.dq_file) as dq_hdul:
            ext = spec.dq if spec.dq not in ("", AUTO_DQ) else _first_image_extension(dq_hdul)
            dq = _read_array(dq_hdul, spec.dq_file, ext, np.uint32)
            dq_source = f"{spec.dq_file}[{ext}]"
    if dq is not None and dq.shape != sci.shape:
        raise InputError(
            dq_source, f"DQ shape {dq.shape} differs from SCI shape {sci.shape} of {spec.path}"
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
        return spec.image_id
    if grouping == "exposure":
        values = [primary.get(key) for key in JWST_EXPOSURE_KEYWORDS]
        if all(value is not None for value in values):
            prog, obs, visit, visit_group, seq, act, expo = (str(v).strip() for v in values)
            return f"jw{prog}{obs}{visit}_{visit_group}{seq}{act}_{expo}"
        return file_stem(spec.path)
    for header in (primary, sci_header):
        if grouping in header:
            return str(header[grouping]).strip()
    raise InputError(spec.path, f"grouping keyword {grouping!r} is in neither the primary nor the SCI header")


def previous_background(primary, sci_header):
    """BKGLEVEL / BKGSUB left by an earlier sky-matching run (None when absent).

    JWST keeps them in the primary header; a chip of a multi-chip file may
    carry its own in its SCI header, which then wins.
    """
    level = sci_header.get("BKGLEVEL", primary.get("BKGLEVEL"))
    subtracted = sci_header.get("BKGSUB", primary.get("BKGSUB"))
    return {
        "level": None if level is None else float(level),
        "subtracted": None if subtracted is None else bool(subtracted),
    }
