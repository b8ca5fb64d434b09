"""Matched copies: JWST keywords, float32 subtraction in the reference's order, inputs untouched."""

import hashlib
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from helpers.images import write_image
from skymatchflow import __version__
from skymatchflow.stages.apply_sky import write_matched_copy


def sky_rows(**overrides):
    row = {"image": "a", "file": "a.fits", "sci": "SCI", "sky": 1.25, "delta_match": 0.5,
           "sky_global": 0.75, "status": "COMPLETE"}
    row.update(overrides)
    return Table(rows=[row])


@pytest.fixture
def image(tmp_path):
    sci = np.random.default_rng(0).normal(3.0, 0.1, (64, 80)).astype(np.float32)
    path = write_image(tmp_path / "a.fits", sci=sci, dq=np.zeros((64, 80), np.uint32),
                       primary_cards={"PROGRAM": "01234", "MYCARD": "kept"})
    return path, sci


def test_complete_image_gets_keywords_and_keeps_everything_else(image, tmp_path):
    path, sci = image
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / "out" / "a.fits"
    write_matched_copy(path, out, sky_rows(), "global+match", False)
    with fits.open(out) as new, fits.open(path) as old:
        assert [h.name for h in new] == [h.name for h in old]
        primary = new[0].header
        assert (primary["BKGMETH"], primary["BKGLEVEL"], primary["BKGSUB"], primary["S_SKYMAT"]) == (
            "global+match", 1.25, False, "COMPLETE")
        assert primary["MYCARD"] == "kept" and primary["PROGRAM"] == "01234"
        assert primary["SKYMFVER"] == __version__ and "SKYMFVER" not in old[0].header
        assert np.array_equal(new["SCI"].data, old["SCI"].data)
        assert np.array_equal(new["DQ"].data, old["DQ"].data)
        for key in old["SCI"].header:
            assert new["SCI"].header[key] == old["SCI"].header[key]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_subtract_applies_stage_changes_in_float32_order(image, tmp_path):
    path, sci = image
    out = tmp_path / "b.fits"
    write_matched_copy(path, out, sky_rows(), "global+match", True)
    expected = sci.copy()
    expected -= 0.5  # match stage, as the reference's in-place float32 update
    expected -= 0.75  # then the global stage
    with fits.open(out) as hdul:
        assert hdul["SCI"].data.dtype == np.dtype(">f4")
        assert np.array_equal(hdul["SCI"].data, expected)
        assert hdul[0].header["BKGSUB"] is True


def test_skipped_image_is_left_alone(image, tmp_path):
    path, sci = image
    out = tmp_path / "c.fits"
    write_matched_copy(path, out, sky_rows(status="SKIPPED", sky=0.0), "match", True)
    with fits.open(out) as hdul:
        assert hdul[0].header["S_SKYMAT"] == "SKIPPED"
        assert "BKGLEVEL" not in hdul[0].header and "BKGSUB" not in hdul[0].header
        assert np.array_equal(hdul["SCI"].data, sci)


def test_nan_stage_change_is_not_applied(image, tmp_path):
    path, sci = image
    out = tmp_path / "d.fits"
    write_matched_copy(path, out, sky_rows(delta_match=np.nan, sky_global=0.75), "global", True)
    with fits.open(out) as hdul:
        assert np.array_equal(hdul["SCI"].data, sci - np.float32(0.75))


@pytest.mark.parametrize("suffix, magic", [(".fits.gz", b"\x1f\x8b"), (".fits.bz2", b"BZh")])
def test_matched_copy_of_a_compressed_input_is_compressed_the_same_way(image, tmp_path, suffix, magic):
    """The copy keeps the input's name, so ``a.fits.gz`` must be a gzip file (gzip -t)."""
    path, sci = image
    compressed = tmp_path / f"in{suffix}"
    with fits.open(path) as hdul:
        hdul.writeto(compressed)
    out = tmp_path / "out" / compressed.name
    write_matched_copy(compressed, out, sky_rows(), "match", True)
    assert out.read_bytes()[:len(magic)] == magic
    with fits.open(out) as new:
        assert np.array_equal(new["SCI"].data, sci - np.float32(0.5) - np.float32(0.75))


def test_checksums_of_the_input_are_recomputed_in_the_copy(image, tmp_path):
    """Copied CHECKSUM/DATASUM cards would no longer match the changed header and data."""
    path, _ = image
    summed = tmp_path / "summed.fits"
    with fits.open(path) as hdul:
        hdul.writeto(summed, checksum=True)
    out = tmp_path / "out" / "summed.fits"
    write_matched_copy(summed, out, sky_rows(), "match", True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(out, checksum=True) as hdul:
            assert "CHECKSUM" in hdul["SCI"].header
            hdul["SCI"].data.sum()


def test_a_copy_records_its_made_from_key_and_code(image, tmp_path):
    from skymatchflow.io.codeid import package_digest
    from skymatchflow.stages.apply_sky import matched_identity, recorded_identity

    path, _ = image
    identity = matched_identity("k" * 64, "s" * 64, "match", True)
    assert identity["code"] == package_digest()
    assert matched_identity("k" * 64, "t" * 64, "match", True)["key"] != identity["key"]  # other input bytes
    assert matched_identity("j" * 64, "s" * 64, "match", True)["key"] != identity["key"]  # another sky table
    assert matched_identity("k" * 64, "s" * 64, "match", False)["key"] != identity["key"]
    out = tmp_path / "out" / "a.fits"
    write_matched_copy(path, out, sky_rows(), "match", True, identity)
    assert recorded_identity(out) == identity
    assert fits.getheader(out)["SKYMFKEY"] == identity["key"]
    plain = tmp_path / "plain.fits"
    write_matched_copy(path, plain, sky_rows(), "match", True)
    assert recorded_identity(plain) is None


def test_a_cal_file_copy_records_its_made_from_key_in_its_asdf_history(tmp_path):
    from helpers.jwst_data import write_mosaic
    from skymatchflow.stages.apply_sky import matched_identity, recorded_identity

    (tmp_path / "in").mkdir()
    source = sorted(write_mosaic(tmp_path / "in", observations=("001",), detectors=("NRCA1",)))[0]
    identity = matched_identity("k" * 64, "s" * 64, "match", True)
    out = tmp_path / "out" / source.name
    write_matched_copy(source, out, sky_rows(file=str(source)), "match", True, identity)
    assert "SKYMFKEY" not in fits.getheader(out)  # written through the data model: the tree records it
    assert recorded_identity(out) == identity
