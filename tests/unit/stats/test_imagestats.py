"""Tests for skymatchflow.stats.imagestats against the real stsci.imagestats.

stsci.imagestats (ImageStats, as used by stcal's SkyStats) is only a test
oracle here.  Its stdout prints are captured.
"""
from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skymatchflow.stats._histogram import Hist, midpt_from_hist, mode_from_hist
from skymatchflow.stats._sorted_engine import SortedEngine
from skymatchflow.stats.imagestats import SkyStat, _sky_statistic, sky_statistic

ImageStats = pytest.importorskip("stsci.imagestats").ImageStats

STATS = ("mode", "mean", "median", "midpt")


# --------------------------------------------------------------------------
# oracle helpers
# --------------------------------------------------------------------------
def reference(x, stat, lower=None, upper=None, nclip=5, lsig=4.0, usig=4.0, binwidth=0.1):
    """Return (status, value, npix, nbins) from ImageStats; status is
    'ok' or 'raise'.  Prints are swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            s = ImageStats(
                x, fields="npix," + stat, lower=lower, upper=upper, nclip=nclip,
                lsig=lsig, usig=usig, binwidth=binwidth,
            )
        except ValueError:
            return "raise", None, 0, None
    hist = getattr(s, "histogram", None)
    nbins = None if hist is None else np.size(hist)
    return "ok", getattr(s, stat), s.npix, nbins


def expected_from_reference(ref, stat):
    """Map a reference result to what sky_statistic must return: (value or
    None, npix or None when npix is not checked)."""
    status, value, npix, nbins = ref
    if status == "raise":
        return None, None
    if stat == "midpt" and nbins == 1:
        return None, npix  # the reference returns a bin count here
    if value is None or not math.isfinite(float(value)):
        return None, npix
    return float(value), npix


def assert_matches(ours: SkyStat, ref, stat, context=""):
    exp_value, exp_npix = expected_from_reference(ref, stat)
    if exp_value is None:
        assert ours.value is None, f"{context}: expected no value, got {ours}; ref={ref}"
        assert isinstance(ours.reason, str) and ours.reason
        if exp_npix is not None:
            assert ours.npix == exp_npix, f"{context}: npix {ours.npix} != {exp_npix}"
        return
    assert ours.value is not None, f"{context}: got no value ({ours.reason}); ref={ref}"
    assert ours.reason is None
    assert ours.npix == exp_npix, f"{context}: npix {ours.npix} != {exp_npix}; ref={ref}"
    if stat in ("mean", "median"):
        assert ours.value == exp_value, f"{context}: {ours.value!r} != {exp_value!r}"
    else:
        tol = 1e-6 * max(1.0, abs(exp_value))
        assert abs(ours.value - exp_value) <= tol, (
            f"{context}: {ours.value!r} vs {exp_value!r} (diff {ours.value - exp_value:g})"
        )


def check_all_engines(x, stat, **kw):
    ref = reference(
        x, stat, kw.get("lower"), kw.get("upper"), kw.get("nclip", 5),
        kw.get("lsigma", 4.0), kw.get("usigma", 4.0), kw.get("binwidth", 0.1),
    )
    for engine in ("auto", "sorted", "fast"):
        ours = _sky_statistic(x, stat, engine=engine, **kw)
        assert_matches(ours, ref, stat, f"engine={engine} stat={stat} kw={kw}")


# --------------------------------------------------------------------------
# data generators
# --------------------------------------------------------------------------
KINDS = (
    "normal", "stars", "lognormal", "exponential", "constant", "two_values",
    "tiny", "offset", "quantized", "uniform", "normal64", "nan_inf",
)


def make_data(kind, n, seed):
    rng = np.random.default_rng(seed)
    if kind == "normal":
        x = rng.normal(rng.uniform(-5, 5), rng.uniform(0.1, 3), n)
    elif kind == "stars":
        x = rng.normal(1.0, 0.05, n)
        k = rng.random(n) < 0.05
        x[k] += rng.exponential(2.0, int(k.sum()))
        x[rng.random(n) < 0.002] = 5e3
    elif kind == "lognormal":
        x = rng.lognormal(0.0, rng.uniform(0.2, 1.5), n)
    elif kind == "exponential":
        x = rng.exponential(rng.uniform(0.1, 10), n)
    elif kind == "constant":
        x = np.full(n, rng.normal())
    elif kind == "two_values":
        x = np.where(rng.random(n) < rng.uniform(0.1, 0.9), 1.5, -0.25)
    elif kind == "tiny":
        x = rng.normal(3e-7, 1e-7, n)
    elif kind == "offset":
        x = 1.0e4 + rng.normal(0, rng.choice([1e-3, 1e-2, 1.0]), n)
    elif kind == "quantized":
        x = np.round(rng.normal(100, 3, n))
    elif kind == "uniform":
        x = rng.uniform(-1, 1, n)
    elif kind == "nan_inf":
        x = rng.normal(0, 1, n)
        bad = rng.random(n)
        x[bad < 0.02] = np.nan
        x[(bad >= 0.02) & (bad < 0.03)] = np.inf
        x[(bad >= 0.03) & (bad < 0.04)] = -np.inf
    elif kind == "normal64":
        return rng.normal(0.3, 1.7, n)  # float64 input: cast like ImageStats
    else:  # pragma: no cover
        raise AssertionError(kind)
    return x.astype(np.float32)


@st.composite
def datasets(draw, max_size=3000):
    kind = draw(st.sampled_from(KINDS))
    n = draw(st.one_of(st.integers(1, 12), st.integers(13, max_size)))
    seed = draw(st.integers(0, 2**32 - 1))
    return kind, make_data(kind, n, seed)


@st.composite
def limits(draw, x):
    """lower/upper: None, or a value around the data range."""
    finite = x[np.isfinite(x)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def one():
        return draw(st.one_of(
            st.none(),
            st.floats(lo - 0.2 * span, hi + 0.2 * span, allow_nan=False),
            # exactly a pixel value: tests the inclusive limits
            st.sampled_from(finite[:50].tolist() or [0.0]),
        ))

    return one(), one()


SETTINGS = dict(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --------------------------------------------------------------------------
# property tests against the oracle
# --------------------------------------------------------------------------
@settings(max_examples=1500, **SETTINGS)
@given(
    data=datasets(),
    stat=st.sampled_from(STATS),
    nclip=st.integers(0, 6),
    lsig=st.floats(0.5, 6.0),
    usig=st.floats(0.5, 6.0),
    binwidth=st.floats(0.01, 1.0),
    extra=st.data(),
)
def test_matches_imagestats_property(data, stat, nclip, lsig, usig, binwidth, extra):
    kind, x = data
    lower, upper = extra.draw(limits(x)) if extra.draw(st.booleans()) else (None, None)
    check_all_engines(
        x, stat, lower=lower, upper=upper, nclip=nclip,
        lsigma=lsig, usigma=usig, binwidth=binwidth,
    )


@settings(max_examples=300, **SETTINGS)
@given(data=datasets(max_size=400), stat=st.sampled_from(STATS), nclip=st.integers(0, 6))
def test_default_parameters_property(data, stat, nclip):
    kind, x = data
    check_all_engines(x, stat, nclip=nclip)


@settings(max_examples=20, **SETTINGS)
@given(
    kind=st.sampled_from(("stars", "normal", "lognormal", "offset", "quantized", "exponential")),
    n=st.integers(60_000, 250_000),
    seed=st.integers(0, 2**32 - 1),
    stat=st.sampled_from(STATS),
    nclip=st.integers(0, 6),
    lsig=st.floats(2.0, 6.0),
    usig=st.floats(2.0, 6.0),
)
def test_large_inputs_property(kind, n, seed, stat, nclip, lsig, usig):
    x = make_data(kind, n, seed)
    ref = reference(x, stat, None, None, nclip, lsig, usig, 0.1)
    ours = sky_statistic(x, stat, nclip=nclip, lsigma=lsig, usigma=usig)
    assert_matches(ours, ref, stat, f"{kind} n={n}")


@pytest.mark.parametrize("stat", STATS)
@pytest.mark.parametrize("kind", ["stars", "offset", "lognormal"])
def test_megapixel(stat, kind):
    x = make_data(kind, 1_000_000, 7).reshape(1000, 1000)
    ref = reference(x, stat)
    assert_matches(sky_statistic(x, stat), ref, stat, kind)


def test_megapixel_with_limits():
    x = make_data("stars", 1_000_000, 3)
    for stat in STATS:
        ref = reference(x, stat, lower=0.9, upper=3.0, nclip=3)
        assert_matches(sky_statistic(x, stat, lower=0.9, upper=3.0, nclip=3), ref, stat)


# --------------------------------------------------------------------------
# deviations (one-line examples)
# --------------------------------------------------------------------------
def test_empty_input_is_no_value():
    r = sky_statistic(np.array([], np.float32))
    assert r.value is None and r.npix == 0 and "empty" in r.reason
    assert reference(np.array([], np.float32), "mode")[0] == "raise"


def test_lower_above_upper_is_no_value():
    x = np.arange(10, dtype=np.float32)
    assert reference(x, "mean", lower=5, upper=4)[0] == "raise"
    r = sky_statistic(x, "mean", lower=5.0, upper=4.0)
    assert r.value is None and r.npix == 0 and "lower" in r.reason


def test_lower_above_maximum_is_no_value():
    x = np.arange(10, dtype=np.float32)
    assert reference(x, "mean", lower=20)[0] == "raise"
    assert sky_statistic(x, "mean", lower=20.0).value is None


def test_upper_below_minimum_is_no_value():
    x = np.arange(10, dtype=np.float32)
    assert reference(x, "mean", upper=-1)[0] == "raise"
    assert sky_statistic(x, "mean", upper=-1.0).value is None


def test_clipping_to_zero_pixels_is_no_value():
    x = np.array([0, 0, 0, 10], np.float32)
    # lower/upper inside the range but no pixel in [lower, upper]
    assert reference(x, "mean", lower=1, upper=9)[0] == "raise"
    r = sky_statistic(x, "mean", lower=1.0, upper=9.0)
    assert r.value is None and r.npix == 0 and "No pixels" in r.reason


def test_midpt_single_bin_is_no_value():
    x = np.full(100, 3.0, np.float32)
    status, value, npix, nbins = reference(x, "midpt")
    assert (status, value, nbins) == ("ok", 0, 1)  # a bin COUNT, not a value
    r = sky_statistic(x, "midpt")
    assert r.value is None and r.npix == 100 and "one histogram bin" in r.reason


def test_single_pixel():
    x = np.array([2.5], np.float32)
    assert math.isnan(reference(x, "mode")[1])
    r = sky_statistic(x, "mode")
    assert r.value is None and r.npix == 1
    assert sky_statistic(x, "mean") == SkyStat(2.5, 1, None)
    assert sky_statistic(x, "median") == SkyStat(2.5, 1, None)
    assert reference(x, "midpt")[1] == 0  # accepted by SkyStats; we say None
    assert sky_statistic(x, "midpt").value is None


def test_nan_histogram_width_is_no_value():
    # one pixel left, but x0 < lower makes min=lower != max, so h = NaN:
    # the reference raises ValueError from int(nan)
    x = np.array([0.0, 5.0, 100.0], np.float32)
    assert reference(x, "mode", lower=4, upper=6)[0] == "raise"
    r = sky_statistic(x, "mode", lower=4.0, upper=6.0)
    assert r.value is None and r.npix == 1


def test_nan_data():
    x = np.array([np.nan, 1, 2, 3, 4, 5, 6, 2.5], np.float32)
    for stat in STATS:
        # lower None -> lower = min = NaN -> no pixels
        assert_matches(sky_statistic(x, stat), reference(x, stat), stat)
        kw = dict(lower=0.0, upper=10.0, nclip=2)
        ref = reference(x, stat, **{"lower": 0.0, "upper": 10.0, "nclip": 2})
        assert_matches(sky_statistic(x, stat, **kw), ref, stat, "nan + limits")
    y = np.roll(x, 3)  # NaN not first
    for stat in STATS:
        ref = reference(y, stat, lower=0.0, upper=10.0, nclip=2)
        assert_matches(sky_statistic(y, stat, lower=0.0, upper=10.0, nclip=2), ref, stat)


def test_inf_data():
    x = np.array([1, 2, 3, np.inf, 2.5, 1.5], np.float32)
    for stat in STATS:
        assert_matches(sky_statistic(x, stat), reference(x, stat), stat)
        ref = reference(x, stat, upper=10.0)
        assert_matches(sky_statistic(x, stat, upper=10.0), ref, stat)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(nclip=-1), "nclip"),
        (dict(nclip=1.5), "nclip"),
        (dict(lsigma=0.0), "lsigma"),
        (dict(lsigma=float("nan")), "lsigma"),
        (dict(usigma=-1.0), "usigma"),
        (dict(binwidth=0.0), "binwidth"),
        (dict(binwidth=float("inf")), "binwidth"),
        (dict(skystat="average"), "skystat"),
    ],
)
def test_parameter_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sky_statistic(np.arange(10, dtype=np.float32), **kwargs)


def test_parameter_errors_even_for_empty_data():
    with pytest.raises(ValueError, match="nclip"):
        sky_statistic(np.array([]), nclip=-2)


def test_nothing_printed(capsys):
    sky_statistic(np.full(50, 1.0, np.float32), "midpt")  # ref prints a warning
    sky_statistic(np.array([0, 0, 10], np.float32), "mode", lower=1, upper=9)  # error box
    sky_statistic(np.random.default_rng(0).normal(size=100_000), "mode")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_any_shape_and_dtype():
    rng = np.random.default_rng(5)
    x3 = rng.normal(2, 1, (4, 5, 6))
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(RuntimeError):
        ImageStats(x3, fields="npix,mean")  # the reference rejects 3-D input
    for stat in STATS:
        ref = reference(x3.reshape(4, 30), stat)  # same C-order pixels
        assert_matches(sky_statistic(x3, stat), ref, stat)
    xf = np.asfortranarray(rng.normal(2, 1, (30, 20)))  # C-order first element matters
    for stat in STATS:
        assert_matches(sky_statistic(xf, stat), reference(xf, stat), stat)
    xi = rng.integers(0, 50, (40, 40)).astype(np.int16)
    for stat in STATS:
        assert_matches(sky_statistic(xi, stat), reference(xi, stat), stat)


# --------------------------------------------------------------------------
# quirks that change values
# --------------------------------------------------------------------------
def test_quirk_median_ignores_limits_when_nclip_is_zero():
    x = np.random.default_rng(1).normal(5, 1, 20_000).astype(np.float32)
    r0 = sky_statistic(x, "median", upper=5.0, nclip=0)
    assert r0.value == reference(x, "median", upper=5.0, nclip=0)[1]
    assert abs(r0.value - 5.0) < 0.05  # median of ALL pixels
    assert r0.npix == int(np.count_nonzero(x <= 5.0))  # but npix honours upper
    r1 = sky_statistic(x, "median", upper=5.0, nclip=1)
    assert r1.value == reference(x, "median", upper=5.0, nclip=1)[1]
    assert r1.value < 4.6  # clipped median of the lower half


def test_quirk_min_initialised_from_first_element():
    body = np.array([5.0, 5.2, 5.4, 5.5, 5.6, 5.6, 5.7, 5.9, 6.5, 7.0], np.float32)
    first_low = np.concatenate(([0.0], body)).astype(np.float32)  # x0 < lower
    last_low = np.concatenate((body, [0.0])).astype(np.float32)
    # computeMean reports min = lower (4) when x0 < lower, else the true min (5)
    assert SortedEngine(first_low).compute_mean(4.0, 10.0, True, True)[3] == 4.0
    assert SortedEngine(last_low).compute_mean(4.0, 10.0, True, True)[3] == 5.0
    kw = dict(lower=4.0, upper=10.0, nclip=0, binwidth=0.1)
    a = sky_statistic(first_low, "mode", **kw)
    b = sky_statistic(last_low, "mode", **kw)
    assert a.value != b.value  # same pixels, different result
    assert_matches(a, reference(first_low, "mode", **kw), "mode")
    assert_matches(b, reference(last_low, "mode", **kw), "mode")


def test_quirk_histogram_counts_clipped_outliers():
    # values just above the last clipping limit are still histogrammed
    rng = np.random.default_rng(2)
    x = np.concatenate((rng.normal(0, 1, 5000), np.full(3000, 4.3))).astype(np.float32)
    for stat in ("mode", "midpt"):
        assert_matches(sky_statistic(x, stat, nclip=3, usigma=1.5), reference(
            x, stat, nclip=3, usig=1.5), stat)


def test_quirk_dz_versus_h_bias():
    x = np.random.default_rng(0).normal(10, 1, 1_000_000).astype(np.float32)
    mode = sky_statistic(x, "mode")
    midpt = sky_statistic(x, "midpt")
    assert_matches(mode, reference(x, "mode"), "mode")
    assert_matches(midpt, reference(x, "midpt"), "midpt")
    # bins are dz = range/(nbins-1) wide but converted back with h < dz:
    # both estimates are biased low by up to ~0.1 sigma
    assert midpt.value < 9.99 and mode.value < 9.99
    median = sky_statistic(x, "median").value
    assert abs(median - 10.0) < 0.01


def test_quirk_absolute_single_bin_threshold():
    # binwidth*std < 1.19e-6: single-bin branch, mode = min + h/2
    x = np.random.default_rng(3).normal(0, 1e-6, 5000).astype(np.float32)
    r = sky_statistic(x, "mode")
    assert_matches(r, reference(x, "mode"), "mode")
    assert sky_statistic(x, "midpt").value is None
    assert reference(x, "midpt")[3] == 1


def test_quirk_float32_cast_of_float64_input():
    x = (1.0 + np.random.default_rng(4).normal(0, 1e-9, 1000)).astype(np.float64)
    for stat in STATS:
        assert_matches(sky_statistic(x, stat), reference(x, stat), stat)


# --------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------
@settings(max_examples=200, **SETTINGS)
@given(
    counts=st.lists(st.integers(0, 30), min_size=2, max_size=40).filter(lambda c: sum(c) > 0),
    hw=st.floats(1e-3, 10.0),
    mn=st.floats(-100.0, 100.0),
)
def test_sparse_histogram_equals_dense(counts, hw, mn):
    dense = np.array(counts, np.uint32)
    occ = np.flatnonzero(dense)
    hd = Hist(dense.size, dense=dense)
    hs = Hist(dense.size, bins=occ.astype(np.int64), counts=dense[occ])
    assert mode_from_hist(hd, mn, hw) == mode_from_hist(hs, mn, hw)
    assert midpt_from_hist(hd, mn, hw) == midpt_from_hist(hs, mn, hw)


def test_fast_engine_falls_back_on_bimodal_data():
    rng = np.random.default_rng(9)
    x = np.concatenate((rng.normal(0, 1, 70_000), rng.normal(30, 1, 60_000))).astype(np.float32)
    rng.shuffle(x)
    for stat in STATS:
        check_all_engines(x, stat, nclip=4, lsigma=2.0, usigma=2.0)


def test_histogram_upper_edge_is_exclusive():
    # regression (found by a stress run): two pixels equal to 0.9828298 lie
    # between hist_edge*(1-FLT_EPSILON) and hist_edge; stsci.imagestats >= 1.8.2
    # counts them (no edge shrinking, strict "<" upper edge)
    x = make_data("stars", 124690, 1270049275)
    kw = dict(lower=0.9694791587622613, upper=0.9903071425869956, nclip=3,
              lsigma=3.6205909174731508, usigma=1.0969407382574161,
              binwidth=0.4118847293074774)
    ref = reference(x, "midpt", kw["lower"], kw["upper"], 3, kw["lsigma"],
                    kw["usigma"], kw["binwidth"])
    for engine in ("sorted", "fast"):
        assert_matches(_sky_statistic(x, "midpt", engine=engine, **kw), ref, "midpt")
