"""Sky statistics engine: a pure-numpy re-implementation of ``ImageStats``.

What this module reproduces
---------------------------
stcal's ``SkyStats`` returns ``getattr(ImageStats(data, fields="npix,<stat>",
lower, upper, nclip, lsig, usig, binwidth), stat)`` and ``npix`` from
``stsci.imagestats`` 1.8.4 (Python driver plus the C helpers ``computeMean``
and ``populate1DHist``).  :func:`sky_statistic` returns the same numbers,
including these quirks of the reference:

* The data are flattened in C order and cast to float32.  All clipping limits
  are rounded to float32 (round to nearest) before they are compared, like the
  C ``"f"`` argument conversion.
* ``nclip + 1`` passes.  Each pass keeps ``L <= x <= U`` (inclusive).  The
  first pass uses ``L = lower`` (or the data minimum) and ``U = upper`` (or the
  maximum).  Later passes use ``L = max(lower, mean - lsigma*std)`` and
  ``U = min(upper, mean + usigma*std)``, computed with the same Python objects
  and operators as the reference (so NaN limits keep the previous bound).
* ``computeMean``: ``mean = float32(double sum / n)``.  ``std`` sums
  ``float32((float32(x - mean))**2)`` in double and then takes
  ``float32(sqrt(. / (n-1)))``, which gives NaN for n == 1.  The reported
  min/max are set from the FIRST element ``x0``: ``min = L`` when
  ``x0 < L`` (else the clipped minimum), and ``max = U`` when ``x0 > U``.
* The histogram used by mode/midpt has ``nbins = int(range/h) + 1`` bins
  where ``h = binwidth*std``.  The bins are ``dz = range/(nbins-1)`` wide in
  float32, with ``bin = int(float32(1/dz) * float32(x - min))``.  ALL pixels
  are counted, not only the clipped ones: clipped high outliers up to about
  ``max + dz`` land in the last bins.  The upper edge is exclusive
  (``x < min + nbins*dz`` in float32), and an index that rounds up to nbins is
  dropped (as in 1.8.2+).  Bin indices are turned
  back into values with ``h``, not ``dz``, so mode and midpt are biased low.
* Single-bin branch: ``h < 10*eps(float32)`` (an absolute threshold),
  ``|range| < 10*eps`` or ``h > range``.  Here ``mode = min + h/2``.
* Parabolic mode and IRAF-style midpt use the same float32/float64
  arithmetic as the Python reference.
* ``median`` is ``np.median`` of the pixels inside the final limits when
  ``nclip > 0``.  When ``nclip == 0`` it is the median of ALL pixels, so
  lower/upper are ignored there, while npix still counts the pixels in
  [lower, upper].

Where we deviate (on purpose)
-----------------------------
A result is "no value" (``SkyStat.value is None``, with a one-sentence
``reason``) where the reference raises ``ValueError`` or returns nonsense:

* no pixels: an empty input, or a clipping pass that leaves 0 pixels;
* ``lower > upper``, ``lower`` above the maximum, ``upper`` below the
  minimum (the reference raises ValueError);
* midpt when the histogram has a single bin.  The reference returns the bin
  COUNT there (for example 0 for constant data or for a single pixel);
* any statistic that is not finite: the mode of a single pixel is NaN, and
  NaN or inf data give NaN or inf results;
* the histogram bin count cannot be computed (``int(NaN)`` or ``int(inf)``).
  The reference raises ValueError, or OverflowError, which SkyStats does not
  catch.

Other differences:

* Parameter errors raise ``ValueError`` naming the parameter:
  ``nclip < 0`` or not an integer; ``lsigma``, ``usigma`` or ``binwidth``
  that are <= 0 or not finite (the reference accepts NaN); an unknown
  ``skystat``.
* Any array shape is accepted.  The reference raises RuntimeError for 0-d
  and >2-d input.  Masked arrays are read through ``np.asarray``, so the mask
  is ignored and the data are used.
* Nothing is printed (the reference prints ASCII error boxes and warnings to
  stdout).
* Histograms with a huge number of bins are stored sparsely.  The reference
  allocates ``4*nbins`` bytes and can raise MemoryError.  Bin indices that
  the C code would write out of bounds (undefined behaviour) are dropped.
* Sums are computed in double, but not in the C loop's order.  The float32
  mean and std can therefore differ by one float32 ulp in contrived cases
  (double-rounding ties).  We never saw this on realistic data.
* Fast engine (inputs of at least ``_FAST_MIN_SIZE`` pixels): the std of the
  *intermediate* clipping passes (which only sets the next limits) comes
  from exact double moments, not from emulated float32 rounding.  It matches
  the reference to about 1e-9 relative.  It can differ by one float32 ulp
  (roughly once per thousand passes), and that would change npix only if a
  pixel sat exactly on the shifted float32 limit.  The first pass and the
  final pass (whose std sets the histogram) are emulated exactly.

Performance (engines in _sorted_engine.py and _fast_engine.py)
------------------------------------------------------------
Small inputs (and any input with NaN/inf or huge dynamic range) use a
"sorted" engine: one ``np.sort``, after which every clipping pass is two
``searchsorted`` calls plus an exact float32 emulation of the std on a
contiguous slice.

Large inputs use a "core + tails" engine.  A strided sample picks a central
value range [cA, cB] that safely lies inside every later clipping window.
One chunked pass writes w = clip(x, cA, cB), which turns the tails into the
constants cA/cB so they can be subtracted exactly later.  The same pass
extracts and sorts the pixels outside the core (the tails, usually a few
percent) and accumulates sum(w) and sum((w-c)^2).  Every clipping pass then
costs O(log n): searchsorted on the tails plus prefix sums.  Only the final
pass streams over w again; it does the exact float32 std emulation and, in
the same sweep, the histogram.  The histogram's geometry is speculated from
the approximate std and re-done in the rare case the exact std differs.  If
an assumption fails (a clipping window cuts into the core, NaN/inf, tails
> 1/8 of the data, ...) the computation restarts on the sorted engine, which
is always exact.  Peak extra memory is about 1.2x the float32 input (w plus
small buffers).  See tests/benchmarks/bench_imagestats.py for timings.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

from skymatchflow.stats._engine_signals import Fallback, NoValue
from skymatchflow.stats._fast_engine import FastEngine
from skymatchflow.stats._histogram import midpt_from_hist, mode_from_hist
from skymatchflow.stats._sorted_engine import SortedEngine

__all__ = ["SkyStat", "sky_statistic"]
_STATS = ("median", "midpt", "mean", "mode")
_FAST_MIN_SIZE = 1 << 16  # inputs at least this large use the fast engine


@dataclass(frozen=True)
class SkyStat:
    """Result of :func:`sky_statistic`.

    value:  the statistic, or None for "no value".
    npix:   pixels left after the last clipping pass (0 when there is no value
            because no pixels were left).
    reason: one short human sentence when value is None, else None.
    """

    value: float | None
    npix: int
    reason: str | None


# --------------------------------------------------------------------------
# driver: transcription of ImageStats.__init__/_computeStats
# --------------------------------------------------------------------------
def _run(eng, skystat, lower, upper, nclip, lsig, usig, binwidth) -> SkyStat:
    gmin, gmax = eng.gmin, eng.gmax
    if lower is None:
        lower = gmin
    elif lower > gmax:
        raise NoValue("lower is above the maximum pixel value.")
    elif upper is not None and lower > upper:
        raise NoValue("lower is larger than upper.")
    if upper is None:
        upper = gmax
    elif upper < gmin:
        raise NoValue("upper is below the minimum pixel value.")

    need_hist = skystat in ("mode", "midpt")

    def spec(std, mn, mx):
        return _hist_params(binwidth, std, mn, mx, 0)

    _clipmin, _clipmax = lower, upper
    for it in range(nclip + 1):
        last = it == nclip
        need_std = (not last) or need_hist
        _npix, _mean, _stddev, _min, _max = eng.compute_mean(
            _clipmin, _clipmax, need_std, exact=last,
            spec=spec if (last and need_hist) else None,
        )
        if _npix <= 0:
            raise NoValue(f"No pixels left in clipping pass {it}.")
        if it < nclip:
            with np.errstate(all="ignore"):
                _clipmin = max(lower, _mean - lsig * _stddev)
                _clipmax = min(upper, _mean + usig * _stddev)

    if skystat == "mean":
        return _finish(_mean, _npix, "mean")
    if skystat == "median":
        return _finish(eng.median(_clipmin, _clipmax, nclip == 0), _npix, "median")

    _hwidth, _nbins, _dz = _hist_params(binwidth, _stddev, _min, _max, _npix)

    if _nbins == 1:
        if skystat == "midpt":
            raise NoValue(
                "Clipped data fall within one histogram bin, so midpt is undefined.",
                _npix,
            )
        with np.errstate(all="ignore"):
            return _finish(_min + 0.5 * _hwidth, _npix, "mode")

    hist = eng.histogram(_nbins, _dz, _min)
    with np.errstate(all="ignore"):
        if skystat == "mode":
            val = mode_from_hist(hist, _min, _hwidth)
        else:
            val = midpt_from_hist(hist, _min, _hwidth)
    return _finish(val, _npix, skystat)


def _hist_params(binwidth, _stddev, _min, _max, npix):
    """(_hwidth, _nbins, _dz) exactly as ImageStats computes them."""
    with np.errstate(all="ignore"):
        _hwidth = binwidth * _stddev
        _drange = _max - _min
        _minfloatval = 10.0 * np.finfo(dtype=np.float32).eps
        if _hwidth < _minfloatval or abs(_drange) < _minfloatval or _hwidth > _drange:
            return _hwidth, 1, _drange
        ratio = (_max - _min) / _hwidth
        if not math.isfinite(ratio):
            # the reference raises ValueError (int(nan)) or OverflowError
            raise NoValue(
                "The histogram bin count is undefined (std or range not finite).", npix
            )
        _nbins = int(ratio) + 1
        _dz = float(_max - _min) / float(_nbins - 1)
    return _hwidth, _nbins, _dz


def _finish(value, npix, name) -> SkyStat:
    v = float(value)
    if not math.isfinite(v):
        raise NoValue(f"The {name} is not finite ({v}).", npix)
    return SkyStat(v, int(npix), None)


def _check_params(skystat, nclip, lsigma, usigma, binwidth):
    if not isinstance(skystat, str) or skystat not in _STATS:
        raise ValueError(f"skystat must be one of {_STATS}, got {skystat!r}.")
    if isinstance(nclip, (bool, np.bool_)):
        raise ValueError(f"nclip must be a non-negative integer, got {nclip!r}.")
    try:
        ncl = operator.index(nclip)
    except TypeError:
        raise ValueError(f"nclip must be a non-negative integer, got {nclip!r}.") from None
    if ncl < 0:
        raise ValueError(f"nclip must be a non-negative integer, got {nclip!r}.")
    for name, val in (("lsigma", lsigma), ("usigma", usigma), ("binwidth", binwidth)):
        try:
            fv = float(val)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a positive finite number, got {val!r}.") from None
        if not (math.isfinite(fv) and fv > 0.0):
            raise ValueError(f"{name} must be a positive finite number, got {val!r}.")
    return ncl


def _as_float32_flat(data) -> np.ndarray:
    x = np.asarray(data)
    if x.dtype != np.float32:
        with np.errstate(all="ignore"):
            x = x.astype(np.float32)
    return np.ascontiguousarray(x).reshape(-1)


def sky_statistic(
    data,
    skystat="mode",
    lower=None,
    upper=None,
    nclip=5,
    lsigma=4.0,
    usigma=4.0,
    binwidth=0.1,
) -> SkyStat:
    """Sky statistic of ``data``, equal to stcal ``SkyStats`` / ImageStats.

    Parameters mirror ``SkyStats(skystat, lower, upper, nclip, lsig, usig,
    binwidth)``.  Returns a :class:`SkyStat`.  ``value`` is None (with a
    reason) where the reference fails or returns a non-finite value or
    nonsense.  Raises ``ValueError`` for invalid parameters.
    """
    return _sky_statistic(data, skystat, lower, upper, nclip, lsigma, usigma, binwidth)


def _sky_statistic(data, skystat="mode", lower=None, upper=None, nclip=5,
                   lsigma=4.0, usigma=4.0, binwidth=0.1, engine="auto") -> SkyStat:
    """Implementation; ``engine`` in {"auto", "sorted", "fast"} (tests only;
    "fast" still falls back to "sorted" when its assumptions fail)."""
    nclip = _check_params(skystat, nclip, lsigma, usigma, binwidth)
    x = _as_float32_flat(data)
    if x.size == 0:
        return SkyStat(None, 0, "No pixels: the input is empty.")
    use_fast = engine == "fast" or (engine == "auto" and x.size >= _FAST_MIN_SIZE)
    try:
        if use_fast and x.size >= 2:
            try:
                eng = FastEngine(x, lower, upper, lsigma, usigma)
                return _run(eng, skystat, lower, upper, nclip, lsigma, usigma, binwidth)
            except Fallback:
                pass
        return _run(SortedEngine(x), skystat, lower, upper, nclip, lsigma, usigma, binwidth)
    except NoValue as e:
        return SkyStat(None, int(e.npix), e.reason)
