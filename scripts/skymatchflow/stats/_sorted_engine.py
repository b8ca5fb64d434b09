"""The exact engine: one sort, then every clipping pass is two searchsorted calls.

Used for small inputs, for NaN/inf or huge dynamic range, and whenever the
fast engine gives up.
"""

from __future__ import annotations

import numpy as np

from skymatchflow.stats._float32_ops import CHUNK, cmp_threshold, f32, sq_sum, std_from_sumdiff
from skymatchflow.stats._histogram import Hist, hist_geometry


# --------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------
class SortedEngine:
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
        L, U = f32(clipmin), f32(clipmax)
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
                    sumdiff = sq_sum(sel, mean32)
            std = std_from_sumdiff(sumdiff, n)
        return n, float(mean32), std, float(mn), float(mx)

    def median(self, clipmin, clipmax, use_all):
        if use_all:
            if self.has_nan:
                return np.float32(np.nan)
            sub = self.v
        else:
            lo = cmp_threshold(clipmin, "lower")
            hi = cmp_threshold(clipmax, "upper")
            if np.isnan(lo) or np.isnan(hi):
                return np.float32(np.nan)
            a = int(np.searchsorted(self.v, lo, "left"))
            b = int(np.searchsorted(self.v, hi, "right"))
            sub = self.v[a:max(a, b)]
        return median_of_sorted(sub)

    def histogram(self, nbins, dz, zero):
        m0, f, maxv = hist_geometry(nbins, dz, zero)
        v = self.v
        if np.isnan(m0) or np.isnan(maxv):
            seg = v[:0]
        else:
            a = int(np.searchsorted(v, m0, "left"))
            b = int(np.searchsorted(v, maxv, "left"))
            seg = v[a:max(a, b)]
        return histogram_of_sorted(seg, nbins, m0, f)


def median_of_sorted(sub: np.ndarray):
    m = sub.size
    if m == 0:
        return np.float32(np.nan)
    h = m // 2
    with np.errstate(all="ignore"):
        if m % 2 == 1:
            return np.mean(sub[h:h + 1])
        return np.mean(sub[h - 1:h + 1])


def histogram_of_sorted(seg: np.ndarray, nbins: int, m0, f) -> Hist:
    """Histogram of the sorted in-range values seg (all >= m0, below the
    upper edge).  Bin indices >= nbins (out of bounds in C) are dropped."""
    dense = nbins <= max(1 << 16, seg.size // 2)
    nb_f = np.float32(nbins)
    if dense:
        counts = np.zeros(nbins + 1, np.int64)
    else:
        bins_list, counts_list = [], []
    buf = np.empty(min(max(seg.size, 1), CHUNK), np.float32)
    for i in range(0, seg.size, CHUNK):
        c = seg[i:i + CHUNK]
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
        return Hist.from_counts(nbins, counts[:nbins])
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
    return Hist(nbins, bins=bins, counts=cnts.astype(np.uint32))
