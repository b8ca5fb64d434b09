"""Which WCS an image's footprint and overlaps go through, and why.

A JWST cal file carries its exact WCS as a gwcs object in the ASDF extension;
its FITS header holds only an approximation (a SIP fit, or a linear WCS).
With ``wcs: auto`` and the optional JWST extras installed
(envs/requirements-jwst.txt), the gwcs is used as jwst's SkyMatchStep uses
it: ``wcs(x, y, with_bounding_box=False)`` forward and
``wcs.invert(ra, dec, with_bounding_box=False)`` backward, so the bounding
box never turns an outline vertex or an overlap vertex into NaN. Otherwise
the FITS header's WCS is used. asdf and gwcs are imported only for files
that have an ASDF extension, so the FITS path stays light.
"""

import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skymatchflow.errors import InputError

# The JWST extras the gwcs path needs (importable names).
JWST_EXTRAS = ("asdf", "gwcs")
ASDF_EXTENSION = "ASDF"
INSTALL_HINT = "pip install -r envs/requirements-jwst.txt"


def missing_extras():
    """The JWST extras that are not installed (checked without importing them)."""
    return [name for name in JWST_EXTRAS if importlib.util.find_spec(name) is None]


def wcs_policy(mode):
    """``'gwcs'`` (use a file's gwcs where it has one) or ``'fits'``, and the reason, for config ``wcs``."""
    if mode == "fits":
        return "fits", "config wcs: fits"
    missing = missing_extras()
    if missing:
        return "fits", f"the JWST extras ({', '.join(missing)}) are not installed: {INSTALL_HINT}"
    return "gwcs", "config wcs: auto and the JWST extras are installed"


def looks_like_jwst(path):
    """True for a file named as the JWST pipeline names its products (``jw<program>...``)."""
    return Path(path).name.startswith("jw")


def describe_policy(mode, jwst_inputs=True):
    """The one line a run prints about the WCS it uses.

    ``jwst_inputs``: whether any input is named like a JWST file; without
    one, the advice to install the JWST extras does not apply (2MASS, DECam).
    """
    policy, reason = wcs_policy(mode)
    if policy == "fits" and mode == "auto" and not jwst_inputs:
        return "WCS: the FITS header of every image (config wcs: auto; no input is named like a JWST file)"
    if policy == "gwcs":
        return f"WCS: the gwcs of each file's ASDF extension where it has one, else the FITS header ({reason})"
    return f"WCS: the FITS header of every image ({reason})"


class GwcsAdapter:
    """A gwcs behind the two calls the package makes of a celestial astropy WCS.

    ``all_pix2world`` and ``all_world2pix`` (0-based pixels, origin 0 only)
    with the step's bounding-box semantics: both directions ignore it.
    A failed numerical inversion gives NaN, as an unreachable position does.
    """

    def __init__(self, gwcs_object):
        self.gwcs = gwcs_object
        self._unbounded = None  # the copy without a bounding box that slice() hands to reproject

    def all_pix2world(self, x, y, origin):
        assert origin == 0
        ra, dec = self.gwcs(np.asarray(x, float), np.asarray(y, float), with_bounding_box=False)
        return np.asarray(ra, float), np.asarray(dec, float)

    def all_world2pix(self, ra, dec, origin, **kwargs):
        assert origin == 0
        try:
            x, y = self.gwcs.invert(np.asarray(ra, float), np.asarray(dec, float), with_bounding_box=False)
        except Exception:  # gwcs' NoConvergence and friends: no pixel for this position
            nan = np.full(np.shape(ra), np.nan)
            return nan, nan
        return np.asarray(x, float), np.asarray(y, float)

    def slice(self, slices):
        """The gwcs on a window ((rows, columns) slices), as astropy's WCS API for reproject (pair_statistic: difference).

        A copy without its bounding box, as the two calls above ignore it.
        """
        import copy

        from astropy.wcs.wcsapi import HighLevelWCSWrapper, SlicedLowLevelWCS

        if self._unbounded is None:
            self._unbounded = copy.deepcopy(self.gwcs)
            self._unbounded.bounding_box = None
        return HighLevelWCSWrapper(SlicedLowLevelWCS(self._unbounded, slices))


@dataclass
class ImageWcs:
    """The WCS chosen for one image: ``kind`` 'gwcs' or 'fits', the object, and why."""

    kind: str
    wcs: object  # celestial astropy WCS or GwcsAdapter
    reason: str


def read_gwcs(hdul, path):
    """The gwcs stored as meta.wcs in the ASDF extension of an open FITS file, or None."""
    import asdf  # optional extra: only files with an ASDF extension get here

    try:
        with asdf.open(io.BytesIO(hdul[ASDF_EXTENSION].data.tobytes()), lazy_load=True) as af:
            wcs = af.tree.get("meta", {}).get("wcs")
    except Exception as err:  # a damaged or foreign ASDF extension
        raise InputError(path, f"unreadable ASDF extension ({err})") from None
    return wcs


def choose_wcs(hdul, path, single_sci, fits_wcs, policy):
    """The ImageWcs of one image of an open file.

    ``policy``: 'gwcs' or 'fits' from :func:`wcs_policy` (the extras are
    checked again here: a rule's environment may lack them). ``single_sci``:
    the image is the file's only SCI (a JWST data model; meta.wcs belongs to
    it). ``fits_wcs``: the header's celestial WCS.
    """
    if policy == "fits":
        return ImageWcs("fits", fits_wcs, "config wcs: fits")
    if ASDF_EXTENSION not in hdul:
        return ImageWcs("fits", fits_wcs, "no ASDF extension")
    if not single_sci:
        return ImageWcs("fits", fits_wcs, "several SCI extensions: meta.wcs belongs to none of them")
    missing = missing_extras()
    if missing:
        return ImageWcs("fits", fits_wcs, f"the JWST extras ({', '.join(missing)}) are not installed: {INSTALL_HINT}")
    gwcs_object = read_gwcs(hdul, path)
    if gwcs_object is None:
        return ImageWcs("fits", fits_wcs, "no meta.wcs in the ASDF extension")
    return ImageWcs("gwcs", GwcsAdapter(gwcs_object), "meta.wcs of the ASDF extension")
