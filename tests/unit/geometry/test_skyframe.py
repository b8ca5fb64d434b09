"""Every celestial frame and axis order gives footprints in ICRS, or one line refusing the image."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import (
    FK4,
    FK5,
    ICRS,
    BarycentricMeanEcliptic,
    FK4NoETerms,
    Galactic,
    SkyCoord,
    Supergalactic,
)
from astropy.time import Time
from astropy.wcs import WCS

from helpers.images import tan_wcs, write_image
from helpers.in_process import run_in_process
from helpers.reference_runner import full_config
from skymatchflow.errors import InputError
from skymatchflow.geometry.skyframe import IcrsWcs, footprint_wcs

SHAPE = (64, 80)
B1950 = Time(1950.0, format="byear")

# (name, CTYPE prefixes, extra header cards, the astropy frame those cards mean)
FRAMES = [
    ("galactic", ("GLON", "GLAT"), {}, Galactic()),
    ("supergalactic", ("SLON", "SLAT"), {}, Supergalactic()),
    ("ecliptic-J2000", ("ELON", "ELAT"), {"EQUINOX": 2000.0}, BarycentricMeanEcliptic(equinox="J2000")),
    ("fk4-B1950", ("RA--", "DEC-"), {"RADESYS": "FK4", "EQUINOX": 1950.0}, FK4(equinox=B1950, obstime=B1950)),
    ("fk4-no-e", ("RA--", "DEC-"), {"RADESYS": "FK4-NO-E", "EQUINOX": 1950.0},
     FK4NoETerms(equinox=B1950, obstime=B1950)),
    ("fk5-J1975", ("RA--", "DEC-"), {"RADESYS": "FK5", "EQUINOX": 1975.0}, FK5(equinox="J1975")),
    ("icrs", ("RA--", "DEC-"), {"RADESYS": "ICRS"}, ICRS()),
]


def rewrite_in_frame(wcs, prefixes, cards, frame, lat_first=False):
    """The FITS header of ``wcs`` (ICRS, TAN, RA first) describing the same pixels in ``frame``.

    A gnomonic projection is about a point, whatever the frame: the tangent
    point moves to its coordinates in ``frame`` and the CD matrix turns by
    the position angle of ``frame``'s north pole at that point.
    """
    centre = SkyCoord(*wcs.wcs.crval, unit="deg", frame=ICRS())
    pole = SkyCoord(0 * u.deg, 90 * u.deg, frame=frame).transform_to(ICRS())
    theta = centre.position_angle(pole).rad
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    native = centre.transform_to(frame).spherical
    crval = [native.lon.deg, native.lat.deg]
    cd = turn @ wcs.wcs.cd
    ctype = [f"{prefixes[0]}-TAN", f"{prefixes[1]}-TAN"]
    if lat_first:
        ctype, crval, cd = ctype[::-1], crval[::-1], cd[::-1]
    new = WCS(naxis=2)
    new.wcs.ctype, new.wcs.crval, new.wcs.crpix, new.wcs.cd = ctype, crval, wcs.wcs.crpix, cd
    header = new.to_header()
    header.update(cards)
    return header


def sky_of_pixels(wcs, x, y):
    ra, dec = wcs.all_pix2world(x, y, 0)
    return SkyCoord(ra, dec, unit="deg", frame=ICRS())


GRID = np.meshgrid(np.linspace(-0.5, SHAPE[1] - 0.5, 9), np.linspace(-0.5, SHAPE[0] - 0.5, 7))


@pytest.mark.parametrize("lat_first", [False, True], ids=["lon-first", "lat-first"])
@pytest.mark.parametrize("name, prefixes, cards, frame", FRAMES, ids=[f[0] for f in FRAMES])
def test_every_frame_maps_pixels_to_the_same_icrs_positions(name, prefixes, cards, frame, lat_first):
    """Within 0.1 mas (2e-4 pixel): FK4's E-terms of aberration are not a rotation, so the
    rewritten TAN header is exact only to some 20 micro-arcseconds across the image."""
    icrs = tan_wcs(SHAPE, crval=(266.4, -29.0), rotation_deg=20.0)  # near the Galactic centre
    header = rewrite_in_frame(icrs, prefixes, cards, frame, lat_first)
    wcs = footprint_wcs(WCS(header), "x.fits", "0")
    x, y = (g.ravel() for g in GRID)
    assert sky_of_pixels(wcs, x, y).separation(sky_of_pixels(icrs, x, y)).max() < 0.1 * u.mas
    back_x, back_y = wcs.all_world2pix(*wcs.all_pix2world(x, y, 0), 0)  # and back through the same frames
    assert np.abs(back_x - x).max() < 1e-6 and np.abs(back_y - y).max() < 1e-6


@pytest.mark.parametrize("cards", [{}, {"RADESYS": "ICRS"}, {"EQUINOX": 2000.0}, {"RADESYS": "FK5"}],
                         ids=["no-frame", "icrs", "equinox-2000", "fk5"])
def test_icrs_and_fk5_j2000_ra_first_keep_their_own_wcs(cards):
    """The reference's frame: these images' footprints stay bit for bit the reference's."""
    header = tan_wcs(SHAPE).to_header()
    del header["RADESYS"]
    header.update(cards)
    wcs = WCS(header)
    assert footprint_wcs(wcs, "x.fits", "0") is wcs


def test_fk5_j2000_latitude_first_is_only_swapped():
    """Dec first in FK5 J2000: the same positions as its RA-first twin, which is taken as it is (no frame bias)."""
    header = tan_wcs(SHAPE, rotation_deg=20.0).to_header()
    header["RADESYS"], header["EQUINOX"] = "FK5", 2000.0
    swapped = header.copy()
    for a, b in (("CTYPE1", "CTYPE2"), ("CRVAL1", "CRVAL2"), ("CDELT1", "CDELT2"), ("CUNIT1", "CUNIT2")):
        swapped[a], swapped[b] = header[b], header[a]
    swapped["PC1_1"], swapped["PC1_2"] = header["PC2_1"], header["PC2_2"]
    swapped["PC2_1"], swapped["PC2_2"] = header["PC1_1"], header["PC1_2"]
    x, y = (g.ravel() for g in GRID)
    ra_first = footprint_wcs(WCS(header), "x.fits", "0")
    dec_first = footprint_wcs(WCS(swapped), "x.fits", "0")
    assert isinstance(dec_first, IcrsWcs)
    np.testing.assert_allclose(dec_first.all_pix2world(x, y, 0), ra_first.all_pix2world(x, y, 0), rtol=0, atol=1e-12)


def test_other_frames_are_converted():
    header = rewrite_in_frame(tan_wcs(SHAPE), ("GLON", "GLAT"), {}, Galactic())
    assert isinstance(footprint_wcs(WCS(header), "x.fits", "0"), IcrsWcs)


@pytest.mark.parametrize(
    "ctype, cards, reason",
    [
        (("RA---TAN", "DEC--TAN"), {"RADESYS": "GAPPT"}, "RADESYS = GAPPT is not a frame"),
        (("HPLN-TAN", "HPLT-TAN"), {}, "celestial axes HPLN-TAN/HPLT-TAN are in no sky frame"),
    ],
)
def test_unknown_frame_is_refused_with_one_line(image_factory, ctype, cards, reason):
    header = tan_wcs(SHAPE).to_header()
    header.update({"CTYPE1": ctype[0], "CTYPE2": ctype[1], **cards})
    with pytest.raises(InputError, match=f"x.fits: extension '0': {reason}") as info:
        footprint_wcs(WCS(header), "x.fits", "0")
    assert "\n" not in str(info.value)


def write_scene(directory, frames):
    """Four overlapping images with different skies and a gradient, each written in its frame of ``frames``."""
    rng = np.random.default_rng(27)
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    paths = []
    for index, (dx, dy) in enumerate([(0, 0), (20, 5), (8, 22), (28, 26)]):
        wcs = tan_wcs(SHAPE, crval=(266.4 + dx / 3600, -29.0 + dy / 3600), rotation_deg=7.0 * index)
        sci = (5.0 * index + 0.02 * xx - 0.03 * yy + rng.normal(0, 0.5, SHAPE)).astype(np.float32)
        name, prefixes, cards, frame, lat_first = frames[index % len(frames)]
        path = write_image(directory / f"im{index}.fits", shape=SHAPE, sci=sci, wcs=wcs, layout="plain")
        if name != "original":
            from astropy.io import fits

            with fits.open(path, mode="update") as hdul:
                for key in ("CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "CD1_1", "CD1_2", "CD2_1", "CD2_2", "PC1_1",
                            "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2", "RADESYS", "EQUINOX"):
                    hdul[0].header.remove(key, ignore_missing=True)
                hdul[0].header.update(rewrite_in_frame(wcs, prefixes, cards, frame, lat_first))
        paths.append(str(path))
    return paths


def test_same_images_in_several_frames_give_identical_skies(tmp_path):
    """The scene in ICRS and the same scene with each image in another frame or axis order: the same skies.

    Stated tolerance: the pixel positions agree to under 0.1 mas (above),
    but the reference's pixel fill rounds the overlap's vertices, and those
    on an image's own edge sit on half-integers, so a 1e-8-pixel difference
    can move one edge row or column in or out. That changes a sky as a
    0.1-pixel shift of the ICRS scene does: under 0.02 (1/25 of the pixel
    noise) and pixel counts by under 3 %. Ignoring the frames (the
    reference) loses every overlap.
    """
    original = [("original", None, None, None, False)]
    mixed = [(f[0], f[1], f[2], f[3], lat_first) for f, lat_first in zip(FRAMES[:4], (False, True, True, False))]
    results = []
    for label, frames in (("icrs", original), ("mixed", mixed)):
        directory = tmp_path / label
        directory.mkdir()
        config = full_config(images=write_scene(directory, frames), dqbits=None, skymethod="global+match",
                             skystat="median")
        results.append(run_in_process(config, directory / "work"))
    (icrs_skies, icrs_pairs), (mixed_skies, mixed_pairs) = results
    assert list(mixed_pairs["pair"]) == list(icrs_pairs["pair"]) and len(icrs_pairs) == 6
    assert all(mixed_pairs["valid"])
    for column in ("npix_a", "npix_b"):
        np.testing.assert_allclose(mixed_pairs[column], icrs_pairs[column], rtol=0.03)
    np.testing.assert_allclose(mixed_pairs["difference_before"], icrs_pairs["difference_before"], atol=0.03)
    assert list(mixed_skies["image"]) == list(icrs_skies["image"])
    np.testing.assert_allclose(np.asarray(mixed_skies["sky"], float), np.asarray(icrs_skies["sky"], float), atol=0.02)


def test_preview_of_an_image_in_another_frame_is_placed_in_icrs(tmp_path):
    """The diagnostics resample previews on an RA/Dec grid: a galactic, latitude-first image's preview is in ICRS."""
    from astropy.io import fits

    from skymatchflow.io.inputs import ImageSpec
    from skymatchflow.io.readers import read_header
    from skymatchflow.stages.preview import write_image_preview

    icrs = tan_wcs((400, 300), crval=(266.4, -29.0), rotation_deg=20.0)
    path = write_image(tmp_path / "gal.fits", shape=(400, 300), wcs=icrs, layout="plain")
    with fits.open(path, mode="update") as hdul:
        for key in ("CTYPE1", "CTYPE2", "CRVAL1", "CRVAL2", "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2",
                    "LATPOLE", "LONPOLE"):
            hdul[0].header.remove(key, ignore_missing=True)
        hdul[0].header.update(rewrite_in_frame(icrs, ("GLON", "GLAT"), {}, Galactic(), lat_first=True))
    header = read_header(ImageSpec("gal", str(path), "0"))
    sci = np.zeros((400, 300), np.float32)
    write_image_preview(tmp_path / "p.fits", header, sci, np.ones_like(sci, bool), "gal", {})
    preview = WCS(fits.getheader(tmp_path / "p.fits"))
    factor = fits.getheader(tmp_path / "p.fits")["BINNING"]
    assert preview.wcs.lngtyp == "RA" and preview.wcs.lng == 0
    q = np.array([0.0, 10.0, 20.0]), np.array([0.0, 15.0, 5.0])  # binned pixels, and the image pixels at their centres
    x, y = factor * q[0] + (factor - 1) / 2, factor * q[1] + (factor - 1) / 2
    assert sky_of_pixels(preview, *q).separation(sky_of_pixels(icrs, x, y)).max() < 0.05 * u.arcsec
