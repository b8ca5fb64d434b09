"""The WCS line a run prints: advice about the JWST extras only where it applies."""

from skymatchflow.geometry import skywcs


def test_extras_advice_only_for_jwst_inputs(monkeypatch):
    monkeypatch.setattr(skywcs, "missing_extras", lambda: ["gwcs"])
    jwst = skywcs.describe_policy("auto", jwst_inputs=True)
    decam = skywcs.describe_policy("auto", jwst_inputs=False)
    assert "requirements-jwst.txt" in jwst
    assert "requirements-jwst.txt" not in decam and "FITS header of every image" in decam
    assert "requirements-jwst.txt" not in skywcs.describe_policy("fits", jwst_inputs=True)


def test_jwst_names():
    assert skywcs.looks_like_jwst("/data/jw01234001001_01101_00001_nrca1_cal.fits")
    assert not skywcs.looks_like_jwst("/data/c4d_190101_012345_ooi_g_v1.fits.fz")
    assert not skywcs.looks_like_jwst("/data/2mass/hi0420080.fits")
