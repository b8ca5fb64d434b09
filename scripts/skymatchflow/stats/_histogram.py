"""The reference's histogram (bin geometry, bin index) and the mode and midpt taken from it."""

from __future__ import annotations

import numpy as np


def hist_geometry(nbins: int, dz, zero):
    """Reproduce the histogram1d + populate1DHist set-up (stsci.imagestats
    >= 1.8.2): returns (m0, f, maxv), all float32 as in the C code.
    Pixels with m0 <= v < maxv (upper edge exclusive) are counted in bin int(f * (v - m0)); an index
    >= nbins goes to a scratch slot (1.8.2+) and is therefore dropped."""
    with np.errstate(all="ignore"):
        m0 = np.float32(zero)
        bw = np.float32(dz)
        maxv = m0 + (bw * nbins)  # numpy float32 (histogram1d.maxValue)
        f = np.float32(1.0) / bw
        hist_edge = m0 + bw * np.float32(nbins)
        if maxv > hist_edge:
            maxv = hist_edge
    return m0, f, maxv


def bin_index(v, m0: np.float32, f: np.float32):
    """C: (int)(f * (v - minValue)) in float32 arithmetic (v >= minValue)."""
    with np.errstate(all="ignore"):
        return f * (v - m0)


class Hist:
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
def mode_from_hist(hist: Hist, _min, _hwidth):
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


def midpt_from_hist(hist: Hist, _min, _hwidth):
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
