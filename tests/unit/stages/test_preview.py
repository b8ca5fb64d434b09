"""The binned per-image preview: masked pixels excluded, bounded size, a WCS of the binned grid."""

import numpy as np
import pytest

from helpers.images import tan_wcs
from skymatchflow.stages.preview import (
    PREVIEW_SIZE,
    bin_factor,
    binned_median,
    binned_wcs,
    make_preview,
    read_preview,
    write_preview,
)


def test_bin_factor_bounds_the_longer_side():
    assert bin_factor((2048, 2048)) == 43 and bin_factor((30, 20)) == 1
    for shape in [(2048, 2048), (1024, 4096), (100, 97), (48, 48), (49, 10)]:
        factor = bin_factor(shape)
        assert -(-max(shape) // factor) <= PREVIEW_SIZE
        assert factor == 1 or -(-max(shape) // (factor - 1)) > PREVIEW_SIZE


def test_binned_median_excludes_masked_pixels_and_pads_with_nan():
    sci = np.arange(7 * 5, dtype=np.float32).reshape(7, 5)
    mask = np.ones_like(sci, bool)
    mask[0, 0] = mask[0, 1] = False
    sci[0, 0] = sci[0, 1] = 1e9  # masked outliers must not leak
    out = binned_median(sci, mask, 2)
    assert out.shape == (4, 3) and out.dtype == np.float32
    assert out[0, 0] == np.median([5, 6])
    assert out[1, 1] == np.median(sci[2:4, 2:4])
    assert out[3, 2] == sci[6, 4]  # the padded last bin holds one pixel
    mask[:] = False
    assert np.isnan(binned_median(sci, mask, 2)).all()


@pytest.mark.parametrize("shape, factor", [((64, 48), 4), ((61, 47), 5), ((10, 3), 3), ((9, 9), 1)])
def test_binned_median_equals_numpys_nanmedian(shape, factor):
    rng = np.random.default_rng(sum(shape))
    sci = rng.normal(size=shape).astype(np.float32)
    sci[rng.random(shape) < 0.05] = np.nan  # NaN under a good mask is not a value either
    sci[rng.random(shape) < 0.02] = np.inf
    mask = rng.random(shape) > 0.3
    mask[:factor, :factor] = False  # one bin without any good pixel
    by, bx = -(-shape[0] // factor), -(-shape[1] // factor)
    padded = np.full((by * factor, bx * factor), np.nan, np.float32)
    padded[:shape[0], :shape[1]] = np.where(mask, sci, np.nan)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(padded.reshape(by, factor, bx, factor).transpose(0, 2, 1, 3)
                                .reshape(by, bx, -1), axis=2).astype(np.float32)
    np.testing.assert_array_equal(binned_median(sci, mask, factor), expected)


def _binned_median_by_separate_copies(sci, mask, factor):
    """The previous binned_median (a padded copy, a masked copy, a sorted copy), whose bytes it keeps."""
    ny, nx = sci.shape
    by, bx = -(-ny // factor), -(-nx // factor)
    good = np.zeros((by * factor, bx * factor), bool)
    good[:ny, :nx] = mask & ~np.isnan(sci)
    padded = np.full(good.shape, np.inf, np.float32)
    padded[:ny, :nx] = sci
    padded[~good] = np.inf

    def bins(array):
        return array.reshape(by, factor, bx, factor).transpose(0, 2, 1, 3).reshape(by, bx, -1)

    counts = bins(good).sum(axis=2)
    ordered = np.sort(bins(padded), axis=2)
    low = np.take_along_axis(ordered, (np.maximum(counts, 1)[..., None] - 1) // 2, axis=2)[..., 0]
    high = np.take_along_axis(ordered, counts[..., None] // 2, axis=2)[..., 0]
    with np.errstate(invalid="ignore"):
        median = (low + high) / np.float32(2)
    return np.where(counts > 0, median, np.nan).astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_binned_median_keeps_its_bytes(seed):
    """Signed zeros, infinities, NaN, float64 input and a non-boolean mask give the same bytes as before."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 70, 2))
    factor = int(rng.integers(1, 9))
    values = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan], np.float32)
    sci = rng.choice(values, size=shape) if seed % 2 else rng.normal(size=shape).astype(np.float32)
    sci = sci.astype(np.float64) if seed == 4 else sci
    mask = rng.random(shape) > 0.3
    mask = mask * rng.integers(0, 3, shape).astype(np.uint8) if seed == 5 else mask
    assert binned_median(sci, mask, factor).tobytes() == _binned_median_by_separate_copies(sci, mask, factor).tobytes()


@pytest.mark.parametrize("sip", [True, False], ids=["fitted", "rebinned"])
@pytest.mark.parametrize("crval", [(150.1, 2.2), (0.001, -30.0), (45.0, 89.9)], ids=["plain", "ra0", "pole"])
def test_binned_wcs_follows_the_image_wcs(crval, sip):
    shape = (300, 410)
    wcs = tan_wcs(shape, crval=crval, scale_arcsec=0.2, rotation_deg=30, sip=sip)
    sci = np.zeros(shape, np.float32)
    data, binned, factor = make_preview(sci, np.ones(shape, bool), wcs)
    assert factor == 9 and data.shape == (34, 46)
    jj, ii = np.meshgrid(np.arange(data.shape[1]), np.arange(data.shape[0]))
    inside = (factor * jj + (factor - 1) / 2 < shape[1]) & (factor * ii + (factor - 1) / 2 < shape[0])
    ra, dec = binned.all_pix2world(jj[inside], ii[inside], 0)
    ra0, dec0 = wcs.all_pix2world(factor * jj[inside] + (factor - 1) / 2, factor * ii[inside] + (factor - 1) / 2, 0)
    sep = np.degrees(np.arccos(np.clip(
        np.sin(np.radians(dec)) * np.sin(np.radians(dec0))
        + np.cos(np.radians(dec)) * np.cos(np.radians(dec0)) * np.cos(np.radians(ra - ra0)), -1, 1)))
    assert sep.max() * 3600 < 0.1 * factor * 0.2  # a tenth of a preview pixel
    if not sip:  # a rebinned linear WCS is exact (arccos above resolves only ~1e-8 rad)
        dra = (ra - ra0 + 180) % 360 - 180
        assert np.max(np.abs(dec - dec0)) < 1e-10 and np.max(np.abs(dra * np.cos(np.radians(dec0)))) < 1e-10
    assert (binned.sip is None) and (binned.wcs.ctype[0] == "RA---TAN")


def test_a_cd_matrix_is_rebinned_too():
    wcs = tan_wcs((64, 64), rotation_deg=10)
    header = wcs.to_header()
    for i, j in ((1, 1), (1, 2), (2, 1), (2, 2)):
        header[f"CD{i}_{j}"] = header.pop(f"PC{i}_{j}", float(i == j)) * header[f"CDELT{i}"]
    del header["CDELT1"], header["CDELT2"]
    from astropy.wcs import WCS

    cd_wcs = WCS(header)
    assert cd_wcs.wcs.has_cd()
    binned = binned_wcs(cd_wcs, (64, 64), 4)
    np.testing.assert_allclose(binned.all_pix2world([[0, 0], [15, 15]], 0),
                               cd_wcs.all_pix2world([[1.5, 1.5], [61.5, 61.5]], 0), rtol=0, atol=1e-12)


def test_preview_file_is_small_and_round_trips(tmp_path):
    shape = (1024, 1024)
    rng = np.random.default_rng(1)
    sci = rng.normal(3.0, 0.1, shape).astype(np.float32)
    mask = rng.random(shape) > 0.1
    path = tmp_path / "a.preview.fits"
    write_preview(path, sci, mask, tan_wcs(shape), "a", {"params": {"x": 1}, "inputs": {}}, bunit="MJy/sr")
    assert path.stat().st_size < 16_000
    data, wcs, header = read_preview(path)
    assert data.shape == (47, 47) and header["BUNIT"] == "MJy/sr" and header["BINNING"] == 22
    assert wcs.has_celestial and np.nanmedian(data) == pytest.approx(3.0, abs=0.01)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_strip_one_bin_wide_gets_a_wcs():
    shape = (10, 2000)
    data, wcs, factor = make_preview(np.ones(shape, np.float32), np.ones(shape, bool), tan_wcs(shape))
    assert data.shape == (1, 48) and factor == 42
    ra, dec = wcs.all_pix2world([0, 47], [0, 0], 0)
    assert np.all(np.isfinite(ra)) and abs(ra[1] - ra[0]) > 0
