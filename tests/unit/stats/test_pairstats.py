"""Pair statistics equal stcal's SkyImage / SkyGroup.calc_sky on the same WCS."""

import numpy as np
import pytest
from astropy.io import fits
from stcal.skymatch.skyimage import SkyGroup, SkyImage
from stcal.skymatch.skystatistics import SkyStats

from helpers.images import tan_wcs
from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.io.maskfile import write_mask
from skymatchflow.stats.dqflags import good_pixel_mask
from skymatchflow.stats.pairimage import PairImage
from skymatchflow.stats.pairstats import group_side, pair_record

SHAPE = (120, 150)
STAT = {"skystat": "mode", "lower": None, "upper": None, "nclip": 5, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def make_image(tmp_path, name, crval, rotation, sky, sip=False, seed=0, bad_fraction=0.05, shape=SHAPE):
    """An image file with DQ and its mask stage file; returns (PairImage, SkyImage factory)."""
    rng = np.random.default_rng(seed)
    wcs = tan_wcs(shape, crval=crval, scale_arcsec=0.5, rotation_deg=rotation, sip=sip)
    sci = rng.normal(sky, 0.05, shape).astype(np.float32)
    sci[rng.random(shape) < 0.01] += 5.0  # "stars"
    dq = (rng.random(shape) < bad_fraction).astype(np.uint32) * 4
    sci[:2] = np.nan
    path = tmp_path / f"{name}.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(sci, wcs.to_header(relax=True), name="SCI"),
                  fits.ImageHDU(dq, name="DQ")]).writeto(path)
    mask = good_pixel_mask(sci, dq, 0)
    mask_path = tmp_path / f"{name}_mask.fits"
    write_mask(mask_path, mask, name, {})
    polygon, _, _ = footprint_polygon(shape, wcs, None)
    ours = PairImage(name, str(path), ("SCI", 1), shape, wcs, polygon, str(mask_path))

    def reference(stat=STAT):
        return SkyImage(
            image=sci, mask=mask,
            wcs_fwd=lambda x, y, with_bounding_box=False: wcs.all_pix2world(x, y, 0),
            wcs_inv=lambda ra, dec, with_bounding_box=False: wcs.all_world2pix(ra, dec, 0),
            skystat=SkyStats(stat["skystat"], lower=stat["lower"], upper=stat["upper"], nclip=stat["nclip"],
                             lsig=stat["lsigma"], usig=stat["usigma"], binwidth=stat["binwidth"]),
            sky_id=name,
        )

    return ours, reference


def close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= 1e-6 * max(1, abs(b)))


@pytest.mark.parametrize("skystat", ["mode", "median", "mean", "midpt"])
@pytest.mark.parametrize("sip", [False, True])
def test_single_images(tmp_path, skystat, sip):
    stat = dict(STAT, skystat=skystat)
    a, ref_a = make_image(tmp_path, "a", (150.1, 2.2), 0.0, 1.0, sip=sip, seed=1)
    b, ref_b = make_image(tmp_path, "b", (150.1 + 30 / 3600, 2.2 + 10 / 3600), 17.0, 1.3, sip=sip, seed=2)
    record = pair_record("a", [a], "b", [b], stat)
    ra, rb = ref_a(stat), ref_b(stat)
    sa, wa, aa = ra.calc_sky(overlap=rb, delta=True)
    sb, wb, ab = rb.calc_sky(overlap=ra, delta=True)
    assert record["valid"]
    assert close(record["a"]["sky"], sa) and record["a"]["npix"] == wa
    assert close(record["b"]["sky"], sb) and record["b"]["npix"] == wb
    # spherical_geometry's intersection area varies at ~1e-8 relative from call
    # to call (vertex order); the reference uses it only as a "> 0" test
    assert record["a"]["area_sr"] == pytest.approx(aa, rel=1e-6)
    assert record["b"]["area_sr"] == pytest.approx(ab, rel=1e-6)


def test_groups_npix_weighted_mean_of_members(tmp_path):
    offsets = [(0, 0), (62, 0), (0, 62)]  # arcsec; three detectors of one exposure, side by side
    g1, r1 = zip(*[make_image(tmp_path, f"g1_{k}", (150.1 + dx / 3600, 2.2 + dy / 3600), 0.0, 1.0, seed=k)
                   for k, (dx, dy) in enumerate(offsets)])
    g2, r2 = zip(*[make_image(tmp_path, f"g2_{k}", (150.1 + (dx + 20) / 3600, 2.2 + (dy + 15) / 3600), 1.5, 1.2,
                              seed=10 + k) for k, (dx, dy) in enumerate(offsets)])
    record = pair_record("g1", list(g1), "g2", list(g2), STAT)
    ref1 = SkyGroup([f() for f in r1])
    ref2 = SkyGroup([f() for f in r2])
    s1, w1, a1 = ref1.calc_sky(overlap=ref2, delta=True)
    s2, w2, a2 = ref2.calc_sky(overlap=ref1, delta=True)
    assert close(record["a"]["sky"], s1) and record["a"]["npix"] == w1
    assert close(record["b"]["sky"], s2) and record["b"]["npix"] == w2
    assert record["a"]["area_sr"] == pytest.approx(a1, rel=1e-6)
    assert len(record["a"]["members"]) == 3


def test_group_against_single_image(tmp_path):
    g, r = zip(*[make_image(tmp_path, f"g_{k}", (150.1 + 62 * k / 3600, 2.2), 0.0, 1.0, seed=k) for k in range(2)])
    single, rs = make_image(tmp_path, "s", (150.1 + 31 / 3600, 2.2 + 20 / 3600), 5.0, 0.8, seed=9)
    record = pair_record("g", list(g), "s", [single], STAT)
    ref_g, ref_s = SkyGroup([f() for f in r]), rs()
    assert close(record["a"]["sky"], ref_g.calc_sky(overlap=ref_s)[0])
    assert close(record["b"]["sky"], ref_s.calc_sky(overlap=ref_g)[0])


def test_disjoint_pair_has_no_value(tmp_path):
    a, _ = make_image(tmp_path, "a", (150.1, 2.2), 0.0, 1.0)
    b, _ = make_image(tmp_path, "b", (151.1, 2.2), 0.0, 1.0)
    record = pair_record("a", [a], "b", [b], STAT)
    assert not record["valid"] and "no overlap" in record["reason"]


def test_overlap_without_good_pixels_is_a_reasoned_record(tmp_path):
    a, _ = make_image(tmp_path, "a", (150.1, 2.2), 0.0, 1.0, bad_fraction=1.0)
    b, _ = make_image(tmp_path, "b", (150.1 + 30 / 3600, 2.2), 0.0, 1.0)
    record = pair_record("a", [a], "b", [b], STAT)
    assert not record["valid"]
    assert record["reason"] == "a: no good pixel in the overlap"
    assert record["b"]["sky"] is not None


def test_only_the_overlap_window_is_read(tmp_path, monkeypatch):
    """Cost proportional to the overlap: the SCI/mask reads cover the overlap's box only."""
    import skymatchflow.stats.pairstats as pairstats

    a, _ = make_image(tmp_path, "a", (150.1, 2.2), 0.0, 1.0, shape=(400, 400))
    b, _ = make_image(tmp_path, "b", (150.1 + 180 / 3600, 2.2 + 180 / 3600), 0.0, 1.0, shape=(400, 400))
    seen = []
    original = pairstats.read_pixels

    def spy(image, window):
        seen.append(window)
        return original(image, window)

    monkeypatch.setattr(pairstats, "read_pixels", spy)
    group_side([a], [b], STAT)
    (row0, row1, col0, col1), = seen
    assert (row1 - row0) * (col1 - col0) < 0.1 * 400 * 400


def test_wcs_that_cannot_be_inverted_gives_a_reasoned_record(tmp_path):
    """An inverse WCS that does not converge over the overlap: no value, a reason, no crash."""
    from astropy.wcs import NoConvergence

    a, _ = make_image(tmp_path, "a", (150.1, 2.2), 0.0, 1.0)
    b, _ = make_image(tmp_path, "b", (150.1 + 30 / 3600, 2.2), 0.0, 1.0)

    class Diverging:
        def all_world2pix(self, *args, **kwargs):
            raise NoConvergence("did not converge")

    a.wcs = Diverging()
    record = pair_record("a", [a], "b", [b], STAT)
    assert not record["valid"]
    assert record["reason"] == "a: the WCS cannot be inverted over the overlap"
    assert record["b"]["sky"] is not None


def sliver_image(tmp_path, name):
    """A survey image of helpers/survey_sliver (all pixels good) and the reference's SkyImage of it."""
    from helpers.survey_sliver import SHAPE, sliver_header, sliver_wcs

    rng = np.random.default_rng(len(name))
    sci = rng.normal(10.0, 1.0, SHAPE).astype(np.float32)
    path = tmp_path / f"{name}.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(sci, sliver_header(name), name="SCI")]).writeto(path)
    mask = np.ones(SHAPE, bool)
    mask_path = tmp_path / f"{name}_mask.fits"
    write_mask(mask_path, mask, name, {})
    wcs = sliver_wcs(name)
    polygon, _, _ = footprint_polygon(SHAPE, wcs, None)
    reference = SkyImage(
        image=sci, mask=mask,
        wcs_fwd=lambda x, y, with_bounding_box=False: wcs.all_pix2world(x, y, 0),
        wcs_inv=lambda ra, dec, with_bounding_box=False: wcs.all_world2pix(ra, dec, 0),
        skystat=SkyStats("mode", lower=None, upper=None, nclip=5, lsig=4.0, usig=4.0, binwidth=0.1), sky_id=name,
    )
    return PairImage(name, str(path), ("SCI", 1), SHAPE, wcs, polygon, str(mask_path)), reference


@pytest.mark.parametrize("exact", [False, True])
def test_a_sliver_pair_gives_one_record_whatever_came_before(tmp_path, exact):
    """srv_00835 ~ srv_00836 of the survey strip: one record on every call, after any other pair.

    Their overlap is a triangle of 5.6e-14 sr at a corner: the reference finds
    it (from most trace starts; see geometry/_ringorder.py); it covers no pixel
    centre of srv_00835 and one pixel of srv_00836, whose mode is NaN. So the
    pair is invalid, as in the reference, and always for the same reason.
    """
    import json

    a, ref_a = sliver_image(tmp_path, "srv_00835_cal")
    b, ref_b = sliver_image(tmp_path, "srv_00836_cal")
    c, _ = make_image(tmp_path, "c", (150.1, 2.2), 0.0, 1.0, seed=3)
    d, _ = make_image(tmp_path, "d", (150.1 + 30 / 3600, 2.2), 10.0, 1.1, seed=4)
    records = set()
    for k in range(24):
        if k % 3 == 1:  # another pair computed before, as in a batch
            pair_record("c", [c], "d", [d], STAT, exact=exact)
        if k % 3 == 2:
            pair_record(b.image, [b], a.image, [a], STAT, exact=exact)
        records.add(json.dumps(pair_record(a.image, [a], b.image, [b], STAT, exact=exact), sort_keys=True))
    assert len(records) == 1
    record = json.loads(records.pop())
    assert not record["valid"]
    assert record["reason"] == ("srv_00835_cal: the overlap covers no pixel of the image"
                                " | srv_00836_cal: The mode is not finite (nan).")
    assert ref_a.calc_sky(overlap=ref_b, delta=True) == (None, 0, 0.0)  # the reference: no value either side
    assert ref_b.calc_sky(overlap=ref_a, delta=True) == (None, 0, 0.0)
