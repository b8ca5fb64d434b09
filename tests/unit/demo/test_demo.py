"""Tests of the synthetic demo mosaic (skymatchflow.demo.generate, scripts/demo_mosaic.py).

Small detectors (128 px) keep the whole module to a few seconds.
"""

import re
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from spherical_geometry.polygon import SphericalPolygon

from skymatchflow.demo import generate as demo
from skymatchflow.demo.generate import make_demo_mosaic
from skymatchflow.demo.names import demo_file_names
from skymatchflow.stats.dqflags import JWST_PIXEL_FLAGS

SIZE = 128
SEED = 20261123
BORDER = 4
DO_NOT_USE, NON_SCIENCE = JWST_PIXEL_FLAGS["DO_NOT_USE"], JWST_PIXEL_FLAGS["NON_SCIENCE"]


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("demo")
    paths, truth_path = make_demo_mosaic(outdir, seed=SEED, detector_size=SIZE)
    files = {}
    for p in paths:
        with fits.open(p) as hdul:
            files[p.name] = {
                "primary": hdul[0].header.copy(),
                "sci_header": hdul["SCI"].header.copy(),
                "sci": hdul["SCI"].data.copy(),
                "dq": hdul["DQ"].data.copy(),
                "sci_bitpix": hdul["SCI"].header["BITPIX"],
            }
    return outdir, paths, truth_path, files


def _wcs(header):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. FITSFixedWarning, SIP complaints
        return WCS(header)


def _footprint(header, shape):
    ny, nx = shape
    px = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5])
    py = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
    ra, dec = _wcs(header).all_pix2world(px, py, 0)
    return SphericalPolygon.from_radec(ra, dec)


def test_file_names_are_jwst_like_and_deterministic():
    names = demo_file_names()
    assert names == demo_file_names(4, 4)
    assert len(names) == 16 and len(set(names)) == 16
    assert names[0] == "jw01234001001_01101_00001_nrca1_cal.fits"
    assert names[-1] == "jw01234001001_01101_00004_nrca4_cal.fits"
    pattern = re.compile(r"^jw01234001001_01101_0000[1-4]_nrca[1-4]_cal\.fits$")
    assert all(pattern.match(n) for n in names)
    assert len(demo_file_names(3, 2)) == 6
    with pytest.raises(ValueError):
        demo_file_names(2, 5)
    with pytest.raises(ValueError):
        demo_file_names(0, 4)


def test_files_exist_in_name_order(mosaic):
    outdir, paths, truth_path, _ = mosaic
    assert [p.name for p in paths] == demo_file_names()
    assert all(p.parent == outdir and p.is_file() for p in paths)
    assert truth_path == outdir / "truth.ecsv" and truth_path.is_file()
    # atomic writes leave no temporaries behind
    assert sorted(p.name for p in outdir.iterdir()) == sorted(
        demo_file_names() + ["truth.ecsv"]
    )


def test_structure_and_keywords(mosaic):
    _, _, _, files = mosaic
    for name, f in files.items():
        exp, det = re.match(r".*_(\d{5})_(nrca\d)_cal", name).groups()
        ph = f["primary"]
        assert ph["TELESCOP"] == "JWST" and ph["INSTRUME"] == "NIRCAM"
        assert ph["DETECTOR"] == det.upper()
        assert ph["FILENAME"] == name
        assert ph["EXPOSURE"] == exp and isinstance(ph["EXPOSURE"], str)
        for key, value in [
            ("PROGRAM", "01234"),
            ("OBSERVTN", "001"),
            ("VISIT", "001"),
            ("VISITGRP", "01"),
            ("SEQ_ID", "1"),
            ("ACT_ID", "01"),
        ]:
            assert ph[key] == value and isinstance(ph[key], str)
        assert ph["FILTER"]
        assert "DATE" not in ph  # no file-creation timestamps
        sci, dq = f["sci"], f["dq"]
        assert (
            f["sci_bitpix"] == -32 and sci.dtype.kind == "f" and sci.dtype.itemsize == 4
        )
        assert dq.dtype == np.uint32
        assert sci.shape == dq.shape == (SIZE, SIZE)
        assert f["sci_header"]["BUNIT"] == "MJy/sr"


def test_wcs_is_celestial_and_clean(mosaic):
    _, _, _, files = mosaic
    for f in files.values():
        w = _wcs(f["sci_header"])
        assert w.has_celestial
        ra, dec = w.all_pix2world([SIZE / 2], [SIZE / 2], 0)
        assert abs(ra[0] - 150.1) < 0.05 and abs(dec[0] - 2.2) < 0.05
        # pixel scale ~0.031 arcsec
        scale = np.sqrt(abs(np.linalg.det(w.celestial.pixel_scale_matrix))) * 3600
        assert scale == pytest.approx(0.031, rel=1e-3)


def test_overlaps_across_but_not_within_exposures(mosaic):
    _, _, _, files = mosaic
    polys = {n: _footprint(f["sci_header"], f["sci"].shape) for n, f in files.items()}
    exposures = [[n for n in polys if f"_{k:05d}_" in n] for k in (1, 2, 3, 4)]
    assert [len(e) for e in exposures] == [4, 4, 4, 4]
    for group in exposures:
        for other in exposures:
            if other is group:
                continue
            # every exposure overlaps every other one (the match by exposure has 6 pairs, 3 cycles)
            assert any(polys[a].intersects_poly(polys[b]) for a in group for b in other)
        for a in group:
            assert any(polys[a].intersects_poly(polys[b]) for b in polys if b not in group), a
            for b in group:
                if a != b:
                    assert not polys[a].intersects_poly(polys[b]), (a, b)
    # the dither crosses the gaps: the overlap graph is connected
    seen, todo = set(), [exposures[0][0]]
    while todo:
        a = todo.pop()
        seen.add(a)
        todo += [
            b
            for b in polys
            if b not in seen and b != a and polys[a].intersects_poly(polys[b])
        ]
    assert seen == set(polys)


def test_nan_border_is_flagged(mosaic):
    _, _, _, files = mosaic
    border = np.ones((SIZE, SIZE), bool)
    border[BORDER:-BORDER, BORDER:-BORDER] = False
    for f in files.values():
        sci, dq = f["sci"], f["dq"]
        assert np.all(np.isnan(sci[border]))
        assert np.all(
            dq[border] & (DO_NOT_USE | NON_SCIENCE) == DO_NOT_USE | NON_SCIENCE
        )
        assert np.all(np.isfinite(sci[~border]))


def test_dq_populations(mosaic):
    _, _, truth_path, files = mosaic
    truth = Table.read(truth_path)
    for row in truth:
        sci, dq = files[row["file"]]["sci"], files[row["file"]]["dq"]
        jump = (dq & JWST_PIXEL_FLAGS["JUMP_DET"]) > 0
        assert jump.sum() >= 3
        assert np.all(sci[jump & np.isfinite(sci)] > row["sky_injected"] + 5.0)
        for flag in ("HOT", "DEAD", "SATURATED"):
            bad = (dq & JWST_PIXEL_FLAGS[flag]) > 0
            assert bad.any(), (row["file"], flag)
            assert np.all(dq[bad] & DO_NOT_USE), (row["file"], flag)


def test_good_pixel_median_matches_injected_sky(mosaic):
    _, _, truth_path, files = mosaic
    truth = Table.read(truth_path)
    assert list(truth["file"]) == demo_file_names()
    for row in truth:
        sci, dq = files[row["file"]]["sci"], files[row["file"]]["dq"]
        good = (dq == 0) & np.isfinite(sci)
        assert good.mean() > 0.8
        # sources only add flux; the median of ~14k good pixels sits within
        # a fraction of the noise sigma of the injected sky
        assert (
            abs(np.median(sci[good]) - row["sky_injected"]) < 0.5 * row["noise_sigma"]
        )


def test_scene_is_consistent_between_overlapping_exposures(mosaic):
    """Overlapping pixels differ only by the injected sky difference."""
    _, _, truth_path, files = mosaic
    sky = {r["file"]: r["sky_injected"] for r in Table.read(truth_path)}
    a, b = demo_file_names()[0], demo_file_names()[4]  # nrca1 of both exposures
    fa, fb = files[a], files[b]
    wa, wb = _wcs(fa["sci_header"]), _wcs(fb["sci_header"])
    yy, xx = np.nonzero(fa["dq"] == 0)
    xb, yb = wb.all_world2pix(*wa.all_pix2world(xx, yy, 0), 0)
    ib, jb = np.round(yb).astype(int), np.round(xb).astype(int)
    inside = (ib >= 0) & (ib < SIZE) & (jb >= 0) & (jb < SIZE)
    inside[inside] &= fb["dq"][ib[inside], jb[inside]] == 0
    assert inside.sum() > 1000
    diff = fa["sci"][yy[inside], xx[inside]] - fb["sci"][ib[inside], jb[inside]]
    assert np.median(diff) == pytest.approx(sky[a] - sky[b], abs=2e-3)


def test_truth_table(mosaic):
    _, _, truth_path, _ = mosaic
    truth = Table.read(truth_path, format="ascii.ecsv")
    for col in (
        "file",
        "exposure",
        "detector",
        "sky_injected",
        "sky_exposure",
        "sky_detector_offset",
        "noise_sigma",
    ):
        assert col in truth.colnames
    assert list(truth["exposure"]) == [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4
    assert list(truth["detector"]) == ["nrca1", "nrca2", "nrca3", "nrca4"] * 4
    np.testing.assert_allclose(
        truth["sky_injected"],
        truth["sky_exposure"] + truth["sky_detector_offset"],
        atol=1e-9,
    )
    offsets = np.abs(truth["sky_detector_offset"])
    assert np.all((offsets >= 1e-3) & (offsets <= 5e-3))
    assert len(set(truth["sky_detector_offset"][:4])) == 4
    assert set(truth["sky_exposure"]) == {0.20, 0.26, 0.32, 0.38}
    assert truth.meta["seed"] == SEED and truth.meta["detector_size"] == SIZE
    assert truth.meta["generator_version"] == demo.GENERATOR_VERSION


def test_same_seed_is_byte_identical(mosaic, tmp_path):
    outdir, paths, truth_path, _ = mosaic
    new_paths, new_truth = make_demo_mosaic(tmp_path, seed=SEED, detector_size=SIZE)
    for old, new in zip([*paths, truth_path], [*new_paths, new_truth]):
        assert old.name == new.name
        assert old.read_bytes() == new.read_bytes(), old.name


def test_different_seed_differs(mosaic, tmp_path):
    _, paths, truth_path, files = mosaic
    new_paths, new_truth = make_demo_mosaic(tmp_path, seed=SEED + 1, detector_size=SIZE)
    assert [p.name for p in new_paths] == [p.name for p in paths]
    for p in new_paths:
        with fits.open(p) as hdul:
            assert not np.array_equal(
                hdul["SCI"].data, files[p.name]["sci"], equal_nan=True
            )
    old_t, new_t = Table.read(truth_path), Table.read(new_truth)
    assert not np.array_equal(
        old_t["sky_detector_offset"], new_t["sky_detector_offset"]
    )


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def boom(self, fileobj, *args, **kwargs):
        with open(fileobj, "wb") as handle:
            handle.write(b"SIMPLE  =   half a file")
        raise OSError("disk full")

    monkeypatch.setattr(fits.HDUList, "writeto", boom)
    with pytest.raises(OSError, match="disk full"):
        make_demo_mosaic(tmp_path, detector_size=32)
    assert list(tmp_path.iterdir()) == []


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError):
        make_demo_mosaic(tmp_path, detector_size=8)
    with pytest.raises(ValueError):
        make_demo_mosaic(tmp_path, n_detectors=5)


def test_command_line(tmp_path, capsys):
    import demo_mosaic

    assert (
        demo_mosaic.main([str(tmp_path / "out"), "--detector-size", "48", "--seed", "3"])
        == 0
    )
    printed = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[-1] for p in printed] == demo_file_names() + ["truth.ecsv"]
    assert Table.read(tmp_path / "out" / "truth.ecsv").meta["seed"] == 3
