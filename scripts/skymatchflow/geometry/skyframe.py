"""One sky frame for every footprint: ICRS (RA, Dec), whatever frame and axis order an image's WCS is in.

Footprints and overlaps are spherical polygons compared across images, so
every image must be placed in the same frame. The reference takes the two
world outputs of any celestial WCS as (RA, Dec) in one frame: a galactic
image lands at RA = l, Dec = b, a ``DEC--TAN``-first image has its axes
exchanged, an FK4/B1950 image is taken as ICRS. Here an image in ICRS, or in
FK5 at equinox J2000 (the frame of 2MASS, DECam and most ground data; it
differs from ICRS by the 23-mas frame bias, which the reference and this
workflow ignore so that their footprints agree bit for bit), with RA first,
uses its WCS as it is. Any other frame astropy knows (FK5 and FK4 at other
equinoxes, FK4 without E-terms, galactic, supergalactic, ecliptic) or Dec
first goes through :class:`IcrsWcs`, which converts to and from ICRS with
astropy.coordinates (imported only for such images). A celestial WCS in no
sky frame astropy can place (GAPPT, helioprojective, planetary) is refused
with one line.
"""

import math

import numpy as np

from skymatchflow.errors import InputError

# RADESYS values whose (RA, Dec) are taken as the footprint frame itself.
FOOTPRINT_FRAMES = ("ICRS",)
#: in the key of every footprint and preview: those made before frames were honoured are made again
FRAME_RULE = "ICRS; FK5 J2000 as ICRS; other frames and latitude-first axes converted (astropy)"
J2000 = 2000.0


def _equinox(wcs, default):
    equinox = wcs.wcs.equinox
    return default if equinox is None or not math.isfinite(equinox) else float(equinox)


def _observed(wcs):
    """The observation time wcslib read (MJD-OBS or DATE-OBS), or None."""
    from astropy.time import Time

    mjd = wcs.wcs.mjdobs
    if mjd is not None and math.isfinite(mjd):
        return Time(mjd, format="mjd", scale="utc")
    return Time(wcs.wcs.dateobs, scale="utc") if wcs.wcs.dateobs else None


def is_footprint_frame(wcs):
    """True when ``wcs``'s (lon, lat) are already the footprint frame's (RA, Dec), in that order."""
    if wcs.wcs.lng != 0 or wcs.wcs.lngtyp != "RA":
        return False
    radesys = wcs.wcs.radesys.strip().upper()
    return radesys in FOOTPRINT_FRAMES or (radesys == "FK5" and _equinox(wcs, J2000) == J2000)


def sky_frame(wcs, path, ext):
    """The astropy frame of ``wcs``'s celestial axes, or an InputError of one line naming the frame."""
    from astropy import coordinates as coords
    from astropy.time import Time

    lngtyp = wcs.wcs.lngtyp.strip().upper()
    radesys = wcs.wcs.radesys.strip().upper()
    if lngtyp == "RA":
        if radesys == "ICRS":
            return coords.ICRS()
        if radesys == "FK5":
            equinox = _equinox(wcs, J2000)
            if equinox == J2000:  # taken as ICRS, as when RA comes first (is_footprint_frame)
                return coords.ICRS()
            return coords.FK5(equinox=Time(equinox, format="jyear"))
        if radesys in ("FK4", "FK4-NO-E"):
            equinox = Time(_equinox(wcs, 1950.0), format="byear")
            obstime = _observed(wcs) or equinox
            frame = coords.FK4 if radesys == "FK4" else coords.FK4NoETerms
            return frame(equinox=equinox, obstime=obstime)
        reason = f"RADESYS = {radesys or '(none)'} is not a frame that can be placed on the sky without an observer"
    elif lngtyp == "GLON":
        return coords.Galactic()
    elif lngtyp == "SLON":
        return coords.Supergalactic()
    elif lngtyp == "ELON":
        # FITS WCS paper II: the mean ecliptic and equinox of EQUINOX (J2000 when absent)
        return coords.BarycentricMeanEcliptic(equinox=Time(_equinox(wcs, J2000), format="jyear"))
    else:
        axes = f"{wcs.wcs.ctype[wcs.wcs.lng]}/{wcs.wcs.ctype[wcs.wcs.lat]}"
        reason = f"celestial axes {axes} are in no sky frame astropy knows"
    raise InputError(
        path, f"extension {ext!r}: {reason}; use ICRS, FK5, FK4, galactic, supergalactic or ecliptic axes"
    )


class IcrsWcs:
    """A celestial astropy WCS in another frame or axis order, behind the two calls footprints and pairs make.

    ``all_pix2world`` gives (RA, Dec) in ICRS; ``all_world2pix`` takes them.
    Everything else (``wcs``, ``sip``, ...) is the wrapped WCS's own.
    """

    def __init__(self, wcs, frame):
        self.fits = wcs
        self.frame = frame
        self.lon_first = wcs.wcs.lng == 0

    def __getattr__(self, name):
        return getattr(self.fits, name)

    def _ordered(self, a, b):
        return (a, b) if self.lon_first else (b, a)

    def all_pix2world(self, x, y, origin):
        from astropy import units as u
        from astropy.coordinates import ICRS, SkyCoord

        lon, lat = self._ordered(*self.fits.all_pix2world(x, y, origin))
        if isinstance(self.frame, ICRS):  # only the axis order differs
            return np.asarray(lon, float), np.asarray(lat, float)
        native = SkyCoord(np.asarray(lon, float) * u.deg, np.asarray(lat, float) * u.deg, frame=self.frame)
        icrs = native.transform_to(ICRS())
        return icrs.ra.deg, icrs.dec.deg

    def all_world2pix(self, ra, dec, origin, **kwargs):
        from astropy import units as u
        from astropy.coordinates import ICRS, SkyCoord

        if isinstance(self.frame, ICRS):
            return self.fits.all_world2pix(*self._ordered(ra, dec), origin, **kwargs)
        icrs = SkyCoord(np.asarray(ra, float) * u.deg, np.asarray(dec, float) * u.deg, frame=ICRS())
        native = icrs.transform_to(self.frame)
        lon, lat = native.spherical.lon.deg, native.spherical.lat.deg
        return self.fits.all_world2pix(*self._ordered(lon, lat), origin, **kwargs)


def footprint_wcs(wcs, path, ext):
    """``wcs`` itself when it is already in the footprint frame (bit for bit), else an :class:`IcrsWcs`."""
    if is_footprint_frame(wcs):
        return wcs
    return IcrsWcs(wcs, sky_frame(wcs, path, ext))

