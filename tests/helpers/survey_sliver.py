"""Two footprints whose overlap is a sliver that spherical_geometry finds only from some trace starts.

srv_00835 and srv_00836 of the survey strip in tests/benchmarks/bench_workflow.py
(``make_survey(..., seed=12)``), diagonal neighbours: their 256x256 footprints
meet in a triangle of 5.6e-14 sr (1.7 x 0.011 pixels at one corner). Their
WCS header cards as written to the files, so that the footprints are the
pipeline's bit for bit.
"""

from astropy.io import fits
from astropy.wcs import WCS

SHAPE = (256, 256)

CARDS = {
    "srv_00835_cal": (31.861694522248, 0.017143526994461, -0.00013880005301816, -4.9667634276125e-06),
    "srv_00836_cal": (31.890981276918, -0.017318352228356, -0.00013876451726247, -5.8764109542696e-06),
}


def sliver_header(name):
    """The SCI header's celestial cards of survey image ``name`` (a key of CARDS)."""
    crval1, crval2, pc11, pc12 = CARDS[name]
    header = fits.Header()
    header.update({
        "WCSAXES": 2, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg", "CUNIT2": "deg",
        "CRPIX1": 128.5, "CRPIX2": 128.5, "CRVAL1": crval1, "CRVAL2": crval2,
        "PC1_1": pc11, "PC1_2": pc12, "PC2_1": pc12, "PC2_2": -pc11, "CDELT1": 1.0, "CDELT2": 1.0,
    })
    return header


def sliver_wcs(name):
    return WCS(sliver_header(name))
