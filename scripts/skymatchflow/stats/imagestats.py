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

Performance
-----------
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

__all__ = ["SkyStat", "sky_statistic"]

_STATS = ("median", "midpt", "mean", "mode")
_CHUNK = 1 << 16  # elements per streaming chunk (256 KiB of float32)
_FAST_MIN_SIZE = 1 << 16  # inputs at least this large use the fast engine
_SAMPLE_TARGET = 1 << 16  # max size of the strided sample used to place the core
_CORE_KAPPA = 0.75  # core half-width = kappa * l/usigma * robust sigma
_MAX_TAIL_FRACTION = 8  # fast engine gives up if tails > n / 8


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


class _NoValue(Exception):
    def __init__(self, reason: str, npix: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.npix = npix


class _Fallback(Exception):
    """The fast engine's assumptions do not hold: restart on the sorted engine."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------
def _count_chunk(chunk, m0, f, scratch, index, acc):
    """Add one chunk's histogram counts to ``acc`` (bin = int(float32((x - m0) * f)), as the C code)."""
    np.subtract(chunk, m0, out=scratch)
    np.multiply(scratch, f, out=scratch)
    np.copyto(index, scratch, casting="unsafe")
    acc += np.bincount(index, minlength=acc.size)[: acc.size]


def _f32(v) -> np.float32:
    """C conversion of a Python number to ``float`` (PyArg "f")."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.float32(float(v))


def _cmp_threshold(obj, side: str) -> np.float32:
    """float32 threshold t such that, for float32 x, ``x >= obj`` (side
    'lower') equals ``x >= t``, or ``x <= obj`` (side 'upper') equals
    ``x <= t``, under NumPy 2 promotion rules (as in the reference's median
    mask ``(image <= clipmax) & (image >= clipmin)``)."""
    dt = np.result_type(np.float32, obj)
    with np.errstate(over="ignore", invalid="ignore"):
        if dt == np.float32:
            return np.float32(obj)
        val = np.float64(obj)
        t = np.float32(val)
        if np.isnan(val):
            return t
        if side == "lower" and np.float64(t) < val:
            t = np.nextafter(t, np.float32(np.inf))
        elif side == "upper" and np.float64(t) > val:
            t = np.nextafter(t, np.float32(-np.inf))
        return t


def _sq_sum(a: np.ndarray, m: np.float32, lo=None, hi=None) -> float:
    """sum over a of double(float32(float32(v - m)**2)), optionally with v
    first clipped to [lo, hi]; chunked so temporaries stay in cache."""
    n = a.size
    if n == 0:
        return 0.0
    buf = np.empty(min(n, _CHUNK), np.float32)
    total = 0.0
    for i in range(0, n, _CHUNK):
        c = a[i:i + _CHUNK]
        b = buf[:c.size]
        if lo is not None:
            np.clip(c, lo, hi, out=b)
            np.subtract(b, m, out=b)
        else:
            np.subtract(c, m, out=b)
        np.multiply(b, b, out=b)
        total += float(np.add.reduce(b, dtype=np.float64))
    return total


def _sq_terms(a: np.ndarray, m: np.float32) -> np.ndarray:
    d = a - m
    np.multiply(d, d, out=d)
    return d


def _prefix(a: np.ndarray) -> np.ndarray:
    """[0, a0, a0+a1, ...] in double."""
    out = np.empty(a.size + 1, np.float64)
    out[0] = 0.0
    out[1:] = a
    np.cumsum(out[1:], out=out[1:])
    return out


def _std_from_sumdiff(sumdiff: float, n: int) -> float:
    # C: (float)sqrt(sumdiff / (n - 1)); n == 1 -> 0/0 -> NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.float64(sumdiff) / np.float64(n - 1)
        return float(np.float32(np.sqrt(q)))


def _hist_geometry(nbins: int, dz, zero):
    """Reproduce the histogram1d + populate1DHist set-up (stsci.imagestats
    >= 1.8.2): returns (m0, f, maxv, allow_eq), all float32 as in the C code.
    Pixels with m0 <= v < maxv are counted in bin int(f * (v - m0)); an index
    >= nbins goes to a scratch slot (1.8.2+) and is therefore dropped."""
    with np.errstate(all="ignore"):
        m0 = np.float32(zero)
        bw = np.float32(dz)
        maxv = m0 + (bw * nbins)  # numpy float32 (histogram1d.maxValue)
        f = np.float32(1.0) / bw
        hist_edge = m0 + bw * np.float32(nbins)
        if maxv > hist_edge:
            maxv = hist_edge
    return m0, f, maxv, False


def _bin_index(v, m0: np.float32, f: np.float32):
    """C: (int)(f * (v - minValue)) in float32 arithmetic (v >= minValue)."""
    with np.errstate(all="ignore"):
        return f * (v - m0)


class _Hist:
    """Histogram counts, dense (uint32 array of nbins) or sparse (sorted
    occupied bin indices + uint32 counts)."""

    def __init__(self, nbins, dense=None, bins=None, counts=None):
        self.nbins = nbins
        self.dense = dense
        self.bins = bins
        self.counts = counts

    @classmethod
    def from_counts(cls, nbins, counts_int64):
        return cls(nbins, dense=counts_int64.astype(np.uint32))


# --------------------------------------------------------------------------
# mode / midpt, transcribed from stsci.imagestats.ImageStats._computeStats
# --------------------------------------------------------------------------
def _mode_from_hist(hist: _Hist, _min, _hwidth):
    _nbins = hist.nbins
    if hist.dense is not None:
        _bins = hist.dense
        if _nbins == 2:
            c0, c1 = _bins[0], _bins[1]
        else:
            _peakindex = np.where(_bins == np.maximum.reduce(_bins))[0].tolist()[0]
            cp = _bins[_peakindex]
            cm = _bins[_peakindex - 1] if _peakindex > 0 else None
            cq = _bins[_peakindex + 1] if _peakindex < _nbins - 1 else None
    else:
        b, c = hist.bins, hist.counts
        zero = np.uint32(0)

        def get(j):
            k = int(np.searchsorted(b, j))
            return c[k] if k < b.size and b[k] == j else zero

        if _nbins == 2:
            c0, c1 = get(0), get(1)
        else:
            k = int(np.argmax(c))
            _peakindex = int(b[k])
            cp = c[k]
            cm = get(_peakindex - 1) if _peakindex > 0 else None
            cq = get(_peakindex + 1) if _peakindex < _nbins - 1 else None

    if _nbins == 2:
        if c0 > c1:
            return _min + 0.5 * _hwidth
        elif c0 < c1:
            return _min + 1.5 * _hwidth
        return _min + _hwidth
    if _peakindex == 0:
        return _min + 0.5 * _hwidth
    if _peakindex == (_nbins - 1):
        return _min + (_nbins - 0.5) * _hwidth
    _dh1 = cp - cm
    _dh2 = cp - cq
    _denom = _dh1 + _dh2
    if _denom == 0:
        return _min + (_peakindex + 0.5) * _hwidth
    _mode = _peakindex + 1 + (0.5 * (int(_dh1) - int(_dh2)) / _denom)
    return _min + ((_mode - 0.5) * _hwidth)


def _midpt_from_hist(hist: _Hist, _min, _hwidth):
    if hist.dense is not None:
        _binSum = np.cumsum(hist.dense).astype(np.float32)
        _binSum = _binSum / _binSum[-1]
        _lo = np.where(_binSum >= 0.5)[0][0]
        c_lo = _binSum[_lo]
        c_prev = _binSum[_lo - 1] if _lo > 0 else None
    else:
        cs = np.cumsum(hist.counts, dtype=np.uint64).astype(np.float32)
        cs = cs / cs[-1]
        k = np.where(cs >= 0.5)[0][0]
        _lo = hist.bins[k]  # np.int64 like np.where's index
        c_lo = cs[k]
        if _lo > 0:
            c_prev = cs[k - 1] if k > 0 else np.float32(0.0)
        else:
            c_prev = None
    _h1 = _min + _lo * _hwidth
    if _lo == 0:
        _hdiff = c_lo
    else:
        _hdiff = c_lo - c_prev
    if _hdiff == 0:
        return _h1
    elif _lo == 0:
        return _h1 + 0.5 / _hdiff * _hwidth
    return _h1 + ((0.5 - c_prev) / _hdiff * _hwidth)


# --------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------
class _SortedEngine:
    """Exact engine: one sort, then every pass works on a contiguous slice."""

    def __init__(self, x: np.ndarray):
        self.size = x.size
        self.x0 = x[0]
        s = np.sort(x)  # NaN sorts last
        nvalid = s.size
        if np.isnan(s[-1]):
            nvalid = int(np.searchsorted(s, np.float32(np.nan), "left"))
        self.has_nan = nvalid < s.size
        self.v = s[:nvalid]
        if self.has_nan:
            self.gmin = self.gmax = np.float32(np.nan)
        else:
            self.gmin, self.gmax = s[0], s[-1]

    def compute_mean(self, clipmin, clipmax, need_std, exact, spec=None):
        L, U = _f32(clipmin), _f32(clipmax)
        v = self.v
        if np.isnan(L) or np.isnan(U):
            return 0, None, None, None, None
        a = int(np.searchsorted(v, L, "left"))
        b = int(np.searchsorted(v, U, "right"))
        n = b - a
        if n <= 0:
            return 0, None, None, None, None
        sel = v[a:b]
        with np.errstate(all="ignore"):
            mean32 = np.float32(float(np.add.reduce(sel, dtype=np.float64)) / n)
        x0 = self.x0
        if np.isnan(x0):
            mn = mx = np.float32(np.nan)
        else:
            mn = L if L > x0 else sel[0]
            mx = U if x0 > U else sel[-1]
        std = None
        if need_std:
            if np.isnan(mn) or np.isnan(mx):
                sumdiff = 0.0  # C: no pixel satisfies v >= NaN
            else:
                with np.errstate(all="ignore"):
                    sumdiff = _sq_sum(sel, mean32)
            std = _std_from_sumdiff(sumdiff, n)
        return n, float(mean32), std, float(mn), float(mx)

    def median(self, clipmin, clipmax, use_all):
        if use_all:
            if self.has_nan:
                return np.float32(np.nan)
            sub = self.v
        else:
            lo = _cmp_threshold(clipmin, "lower")
            hi = _cmp_threshold(clipmax, "upper")
            if np.isnan(lo) or np.isnan(hi):
                return np.float32(np.nan)
            a = int(np.searchsorted(self.v, lo, "left"))
            b = int(np.searchsorted(self.v, hi, "right"))
            sub = self.v[a:max(a, b)]
        return _median_of_sorted(sub)

    def histogram(self, nbins, dz, zero):
        m0, f, maxv, allow_eq = _hist_geometry(nbins, dz, zero)
        v = self.v
        if np.isnan(m0) or np.isnan(maxv):
            seg = v[:0]
        else:
            a = int(np.searchsorted(v, m0, "left"))
            b = int(np.searchsorted(v, maxv, "right" if allow_eq else "left"))
            seg = v[a:max(a, b)]
        return _histogram_of_sorted(seg, nbins, m0, f)


def _median_of_sorted(sub: np.ndarray):
    m = sub.size
    if m == 0:
        return np.float32(np.nan)
    h = m // 2
    with np.errstate(all="ignore"):
        if m % 2 == 1:
            return np.mean(sub[h:h + 1])
        return np.mean(sub[h - 1:h + 1])


def _histogram_of_sorted(seg: np.ndarray, nbins: int, m0, f) -> _Hist:
    """Histogram of the sorted in-range values seg (all >= m0, below the
    upper edge).  Bin indices >= nbins (out of bounds in C) are dropped."""
    dense = nbins <= max(1 << 16, seg.size // 2)
    nb_f = np.float32(nbins)
    if dense:
        counts = np.zeros(nbins + 1, np.int64)
    else:
        bins_list, counts_list = [], []
    buf = np.empty(min(max(seg.size, 1), _CHUNK), np.float32)
    for i in range(0, seg.size, _CHUNK):
        c = seg[i:i + _CHUNK]
        t = buf[:c.size]
        with np.errstate(all="ignore"):
            np.subtract(c, m0, out=t)
            np.multiply(t, f, out=t)
        np.minimum(t, nb_f, out=t)  # >= nbins: dropped below
        idx = t.astype(np.int64)
        if dense:
            counts += np.bincount(idx, minlength=nbins + 1)
        else:
            # idx is non-decreasing (seg sorted, index map monotone)
            starts = np.flatnonzero(np.diff(idx)) + 1
            starts = np.concatenate(([0], starts))
            cnt = np.diff(np.concatenate((starts, [idx.size])))
            bins_list.append(idx[starts])
            counts_list.append(cnt)
    if dense:
        return _Hist.from_counts(nbins, counts[:nbins])
    if bins_list:
        bins = np.concatenate(bins_list)
        cnts = np.concatenate(counts_list)
        # merge runs split across chunk boundaries
        keep = np.concatenate(([True], np.diff(bins) != 0))
        grp = np.cumsum(keep) - 1
        cnts = np.bincount(grp, weights=cnts).astype(np.int64)
        bins = bins[keep]
        ok = bins < nbins
        bins, cnts = bins[ok], cnts[ok]
    else:
        bins = np.empty(0, np.int64)
        cnts = np.empty(0, np.int64)
    return _Hist(nbins, bins=bins, counts=cnts.astype(np.uint32))


class _FastEngine:
    """Core + sorted tails engine for large inputs (see module docstring)."""

    def __init__(self, x: np.ndarray, lower, upper, lsig, usig):
        n = x.size
        self.x = x
        self.size = n
        self.x0 = x[0]
        if not np.isfinite(self.x0):
            raise _Fallback
        # ---- place the core [cA, cB] from a strided sample -----------------
        size = min(_SAMPLE_TARGET, max(4096, n // 32))
        step = max(1, n // size)
        smp = np.sort(x[::step])
        if not (np.isfinite(smp[0]) and np.isfinite(smp[-1])):
            raise _Fallback
        k = smp.size - 1
        q16 = float(smp[int(0.15865 * k)])
        q50 = smp[k // 2]
        q84 = float(smp[int(0.84135 * k)])
        rsig = 0.5 * (q84 - q16)
        lo_t = np.float32(float(q50) - _CORE_KAPPA * float(lsig) * rsig)
        hi_t = np.float32(float(q50) + _CORE_KAPPA * float(usig) * rsig)
        ia = int(np.searchsorted(smp, lo_t, "left"))
        ib = int(np.searchsorted(smp, hi_t, "right")) - 1
        if lower is not None:
            lo0 = _f32(lower)
            if np.isnan(lo0):
                raise _Fallback
            ia = max(ia, int(np.searchsorted(smp, lo0, "left")))
        if upper is not None:
            hi0 = _f32(upper)
            if np.isnan(hi0):
                raise _Fallback
            ib = min(ib, int(np.searchsorted(smp, hi0, "right")) - 1)
        if ia > ib:
            raise _Fallback
        cA, cB = smp[ia], smp[ib]
        c0 = min(max(q50, cA), cB)  # moment centre (a float32 data value)
        del smp
        self.cA, self.cB, self.c0 = cA, cB, c0

        # ---- pass A: w = clip(x, cA, cB); tails; sums of w and (w-c0)**2 ----
        # w is kept: later streaming passes read it instead of re-clipping.
        parts = []
        ntail = 0
        max_tail = n // _MAX_TAIL_FRACTION
        s1 = s2 = 0.0
        m = min(n, _CHUNK)
        w = np.empty(n, np.float32)
        buf = np.empty(m, np.float32)
        msk = np.empty(m, bool)
        with np.errstate(all="ignore"):
            for i in range(0, n, _CHUNK):
                c = x[i:i + _CHUNK]
                L = c.size
                wc, b, mk = w[i:i + _CHUNK], buf[:L], msk[:L]
                np.clip(c, cA, cB, out=wc)
                np.not_equal(wc, c, out=mk)  # outside [cA, cB] (or NaN)
                t = c[mk]
                if t.size:
                    ntail += t.size
                    if ntail > max_tail:
                        raise _Fallback
                    parts.append(t)
                s1 += float(np.add.reduce(wc, dtype=np.float64))
                np.subtract(wc, c0, out=b)
                np.multiply(b, b, out=b)
                s2 += float(np.add.reduce(b, dtype=np.float64))
        self.w = w
        if not (math.isfinite(s1) and math.isfinite(s2)):
            raise _Fallback  # NaN somewhere
        T = np.concatenate(parts) if parts else np.empty(0, np.float32)
        del parts
        T.sort()
        nlo = int(np.searchsorted(T, cA, "left"))
        self.T_lo = T[:nlo]
        self.T_hi = T[nlo:]
        self.nlo, self.nhi = nlo, T.size - nlo
        if (self.nlo and not np.isfinite(self.T_lo[0])) or (
            self.nhi and not np.isfinite(self.T_hi[-1])
        ):
            raise _Fallback
        self.gmin = self.T_lo[0] if self.nlo else cA
        self.gmax = self.T_hi[-1] if self.nhi else cB
        if float(self.gmax) - float(self.gmin) > 1e18:
            raise _Fallback  # float32 squares could overflow
        self.ncore = n - T.size
        self.sum_core = s1 - self.nlo * float(cA) - self.nhi * float(cB)
        qa, qb = _sq_terms(np.array([cA, cB]), c0).astype(np.float64)
        self.S2C = s2 - self.nlo * qa - self.nhi * qb
        self.S1C = self.sum_core - self.ncore * float(c0)
        # outward prefix sums over the tails: x and float32 (x - c0)**2
        lo_out = self.T_lo[::-1]
        self.PLx = _prefix(lo_out)
        self.PHx = _prefix(self.T_hi)
        with np.errstate(all="ignore"):
            self.PL2 = _prefix(_sq_terms(lo_out, c0))
            self.PH2 = _prefix(_sq_terms(self.T_hi, c0))
        self._cache = {}
        self._hist_cache = {}
        self._clip_copy = None

    # ---------------------------------------------------------------- passes
    def compute_mean(self, clipmin, clipmax, need_std, exact, spec=None):
        L, U = _f32(clipmin), _f32(clipmax)
        if not (L <= self.cA and U >= self.cB):
            raise _Fallback
        key = (float(L), float(U), need_std, exact)
        if key in self._cache:
            return self._cache[key]
        i = int(np.searchsorted(self.T_lo, L, "left"))
        j = int(np.searchsorted(self.T_hi, U, "right"))
        cl, ch = self.nlo - i, j
        n = self.ncore + cl + ch
        s = self.sum_core + float(self.PLx[cl]) + float(self.PHx[ch])
        mean32 = np.float32(s / n)
        x0 = self.x0
        mn = L if L > x0 else (self.T_lo[i] if cl else self.cA)
        mx = U if x0 > U else (self.T_hi[j - 1] if ch else self.cB)
        std = None
        if need_std:
            std = _std_from_sumdiff(self._approx_sumdiff(mean32, n, cl, ch), n)
            if exact:
                geom = None
                if spec is not None:
                    # speculate: the exact std almost always equals the
                    # approximate one, so build the histogram in the same pass
                    try:
                        _hw, nb, dz = spec(std, float(mn), float(mx))
                        if nb > 1:
                            geom = self._fast_geometry(nb, dz, float(mn))
                    except (_NoValue, _Fallback):
                        geom = None
                sumdiff = self._exact_pass(mean32, i, j, geom)
                std = _std_from_sumdiff(sumdiff, n)
        res = (n, float(mean32), std, float(mn), float(mx))
        self._cache[key] = res
        return res

    def _approx_sumdiff(self, m32, n, cl, ch):
        c = float(self.c0)
        s1 = self.S1C + (float(self.PLx[cl]) - cl * c) + (float(self.PHx[ch]) - ch * c)
        s2 = self.S2C + float(self.PL2[cl]) + float(self.PH2[ch])
        d = float(m32) - c
        return max(s2 - 2.0 * d * s1 + n * d * d, 0.0)

    def _exact_pass(self, m32, i, j, geom):
        """Exact float32-emulated sum of squares about m32 over core + tail
        slices; optionally accumulates the core histogram for geom."""
        cA, cB = self.cA, self.cB
        n = self.size
        m = min(n, _CHUNK)
        b = np.empty(m, np.float32)
        d = np.empty(m, np.float32)
        tot = 0.0
        if geom is not None:
            key, (nbins, m0, f, maxv, allow_eq, iA, iB, itype) = geom
            u = np.empty(m, itype)
            acc = np.zeros(iB + 1, np.int64)
        with np.errstate(all="ignore"):
            for k in range(0, n, _CHUNK):
                wc = self.w[k:k + _CHUNK]
                L = wc.size
                bb, dd = b[:L], d[:L]
                np.subtract(wc, m32, out=dd)
                np.multiply(dd, dd, out=dd)
                tot += float(np.add.reduce(dd, dtype=np.float64))
                if geom is not None:
                    _count_chunk(wc, m0, f, bb, u[:L], acc)
            qa, qb = _sq_terms(np.array([cA, cB]), m32).astype(np.float64)
            core = tot - self.nlo * qa - self.nhi * qb
            tl = float(np.add.reduce(_sq_terms(self.T_lo[i:], m32), dtype=np.float64))
            th = float(np.add.reduce(_sq_terms(self.T_hi[:j], m32), dtype=np.float64))
        if geom is not None:
            self._hist_cache[key] = self._complete_hist(acc, geom[1])
        return core + tl + th

    # ------------------------------------------------------------- histogram
    def _fast_geometry(self, nbins, dz, zero):
        """Geometry for a core+tails histogram, or raise _Fallback."""
        m0, f, maxv, allow_eq = _hist_geometry(nbins, dz, zero)
        cA, cB = self.cA, self.cB
        if nbins > max(1 << 16, self.size // 4) or np.isnan(m0) or np.isnan(maxv):
            raise _Fallback
        if not (cA >= m0 and (cB <= maxv if allow_eq else cB < maxv)):
            raise _Fallback
        iA = int(_bin_index(cA, m0, f))
        iB = int(_bin_index(cB, m0, f))
        if iB >= nbins:
            raise _Fallback
        itype = np.uint8 if iB < 256 else (np.uint16 if iB < 65536 else np.intp)
        key = (nbins, float(dz), float(zero))
        return key, (nbins, m0, f, maxv, allow_eq, iA, iB, itype)

    def _complete_hist(self, acc, g):
        nbins, m0, f, maxv, allow_eq, iA, iB, itype = g
        counts = np.zeros(nbins, np.int64)
        acc = acc.copy()
        acc[iA] -= self.nlo  # clipped low tail landed on cA
        acc[iB] -= self.nhi  # clipped high tail landed on cB
        counts[: iB + 1] += acc
        lo_seg = self.T_lo[int(np.searchsorted(self.T_lo, m0, "left")):]
        hi_seg = self.T_hi[: int(np.searchsorted(self.T_hi, maxv, "right" if allow_eq else "left"))]
        nb_f = np.float32(nbins)
        for seg in (lo_seg, hi_seg):
            if seg.size:
                t = _bin_index(seg, m0, f)
                np.minimum(t, nb_f, out=t)
                counts += np.bincount(t.astype(np.int64), minlength=nbins + 1)[:nbins]
        return _Hist.from_counts(nbins, counts)

    def histogram(self, nbins, dz, zero):
        key, g = self._fast_geometry(nbins, dz, zero)
        if key in self._hist_cache:
            return self._hist_cache[key]
        _n, m0, f, _maxv, _ae, _iA, iB, itype = g
        n = self.size
        m = min(n, _CHUNK)
        b = np.empty(m, np.float32)
        u = np.empty(m, itype)
        acc = np.zeros(iB + 1, np.int64)
        with np.errstate(all="ignore"):
            for k in range(0, n, _CHUNK):
                wc = self.w[k:k + _CHUNK]
                L = wc.size
                _count_chunk(wc, m0, f, b[:L], u[:L], acc)
        h = self._complete_hist(acc, g)
        self._hist_cache[key] = h
        return h

    # ---------------------------------------------------------------- median
    def median(self, clipmin, clipmax, use_all):
        if use_all:
            i, j = 0, self.nhi
        else:
            lo = _cmp_threshold(clipmin, "lower")
            hi = _cmp_threshold(clipmax, "upper")
            if not (lo <= self.cA and hi >= self.cB):
                raise _Fallback
            i = int(np.searchsorted(self.T_lo, lo, "left"))
            j = int(np.searchsorted(self.T_hi, hi, "right"))
        cl = self.nlo - i
        m = cl + self.ncore + j
        h = m // 2
        ranks = (h,) if m % 2 == 1 else (h - 1, h)
        vals = []
        for r in ranks:
            if r < cl:
                vals.append(self.T_lo[i + r])
            elif r < cl + self.ncore:
                vals.append(self._core_rank(r - cl))
            else:
                vals.append(self.T_hi[r - cl - self.ncore])
        with np.errstate(all="ignore"):
            return np.mean(np.array(vals, dtype=np.float32))

    def _core_rank(self, r):
        """r-th smallest core value (0-based)."""
        if self._clip_copy is None:
            self._clip_copy = (self.w, None)  # partitioned in place (last use)
        w, done = self._clip_copy
        K = r + self.nlo  # the nlo copies of cA sort first
        if done is not None and K == done + 1:
            return w[K:].min()  # w is partitioned at K-1
        w.partition(K)
        self._clip_copy = (w, K)
        return w[K]


# --------------------------------------------------------------------------
# driver: transcription of ImageStats.__init__/_computeStats
# --------------------------------------------------------------------------
def _run(eng, skystat, lower, upper, nclip, lsig, usig, binwidth) -> SkyStat:
    gmin, gmax = eng.gmin, eng.gmax
    if lower is None:
        lower = gmin
    elif lower > gmax:
        raise _NoValue("lower is above the maximum pixel value.")
    elif upper is not None and lower > upper:
        raise _NoValue("lower is larger than upper.")
    if upper is None:
        upper = gmax
    elif upper < gmin:
        raise _NoValue("upper is below the minimum pixel value.")

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
            raise _NoValue(f"No pixels left in clipping pass {it}.")
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
            raise _NoValue(
                "Clipped data fall within one histogram bin, so midpt is undefined.",
                _npix,
            )
        with np.errstate(all="ignore"):
            return _finish(_min + 0.5 * _hwidth, _npix, "mode")

    hist = eng.histogram(_nbins, _dz, _min)
    with np.errstate(all="ignore"):
        if skystat == "mode":
            val = _mode_from_hist(hist, _min, _hwidth)
        else:
            val = _midpt_from_hist(hist, _min, _hwidth)
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
            raise _NoValue(
                "The histogram bin count is undefined (std or range not finite).", npix
            )
        _nbins = int(ratio) + 1
        _dz = float(_max - _min) / float(_nbins - 1)
    return _hwidth, _nbins, _dz


def _finish(value, npix, name) -> SkyStat:
    v = float(value)
    if not math.isfinite(v):
        raise _NoValue(f"The {name} is not finite ({v}).", npix)
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
                eng = _FastEngine(x, lower, upper, lsigma, usigma)
                return _run(eng, skystat, lower, upper, nclip, lsigma, usigma, binwidth)
            except _Fallback:
                pass
        return _run(_SortedEngine(x), skystat, lower, upper, nclip, lsigma, usigma, binwidth)
    except _NoValue as e:
        return SkyStat(None, int(e.npix), e.reason)
