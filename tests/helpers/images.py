"""The one synthetic image builder of the tests: a TAN (optionally SIP) WCS and a FITS file around it."""

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, Sip


def tan_wcs(shape=(64, 80), crval=(150.1, 2.2), scale_arcsec=0.5, rotation_deg=0.0, sip=False, crpix=None):
    """A celestial TAN (optionally TAN-SIP) WCS for an image of ``shape``, north up, east left, rotated.

    ``sip``: False, True (a small default distortion) or (A, B) coefficient
    arrays. ``crpix``: the reference pixel (1-based); default the centre.
    """
    ny, nx = shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"] if sip else ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(crval)
    wcs.wcs.crpix = list(crpix) if crpix is not None else [nx / 2 + 0.5, ny / 2 + 0.5]
    theta = np.deg2rad(rotation_deg)
    scale = scale_arcsec / 3600.0
    wcs.wcs.cd = scale * np.array([[-np.cos(theta), np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    if sip is True:
        a = np.zeros((3, 3))
        b = np.zeros((3, 3))
        a[2, 0] = 2e-6
        b[0, 2] = -1.5e-6
        a[1, 1] = 1e-6
        sip = (a, b)
    if sip is not False:
        wcs.sip = Sip(sip[0], sip[1], None, None, wcs.wcs.crpix)
    return wcs


def write_image(path, shape=(64, 80), sci=None, dq=None, wcs=None, primary_cards=None,
                extname="SCI", layout="jwst"):
    """Write a test image.

    layout 'jwst': primary + SCI (+ DQ) extensions; 'plain': data and WCS in
    the primary HDU; 'nowcs': SCI without any WCS.
    """
    rng = np.random.default_rng(abs(hash(str(path))) % 2**32)
    if sci is None:
        sci = (rng.normal(1.0, 0.1, shape)).astype(np.float32)
    wcs = wcs or tan_wcs(shape)
    header = fits.Header() if layout == "nowcs" else wcs.to_header(relax=True)
    primary = fits.Header()
    for key, value in (primary_cards or {}).items():
        primary[key] = value
    if layout == "plain":
        header.update(primary)
        hdus = [fits.PrimaryHDU(sci, header=header)]
    else:
        hdus = [fits.PrimaryHDU(header=primary), fits.ImageHDU(sci, header=header, name=extname)]
        if dq is not None:
            hdus.append(fits.ImageHDU(dq, name="DQ"))
    fits.HDUList(hdus).writeto(path)
    return Path(path)
