"""The "core + tails" engine for large inputs: O(log n) clipping passes after one streaming pass.

See the Performance section of imagestats.py. Raises Fallback whenever an
assumption fails; the exact sorted engine then takes over.
"""

from __future__ import annotations

import math

import numpy as np

from skymatchflow.stats._engine_signals import Fallback, NoValue
from skymatchflow.stats._float32_ops import CHUNK, cmp_threshold, f32, prefix, sq_terms, std_from_sumdiff
from skymatchflow.stats._histogram import Hist, bin_index, hist_geometry

_SAMPLE_TARGET = 1 << 16  # max size of the strided sample used to place the core
_CORE_KAPPA = 0.75  # core half-width = kappa * l/usigma * robust sigma
_MAX_TAIL_FRACTION = 8  # fast engine gives up if tails > n / 8


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------
def count_chunk(chunk, m0, f, scratch, index, acc):
    """Add one chunk's histogram counts to ``acc`` (bin = int(float32((x - m0) * f)), as the C code)."""
    np.subtract(chunk, m0, out=scratch)
    np.multiply(scratch, f, out=scratch)
    np.copyto(index, scratch, casting="unsafe")
    acc += np.bincount(index, minlength=acc.size)[: acc.size]


class FastEngine:
    """Core + sorted tails engine for large inputs (see module docstring)."""

    def __init__(self, x: np.ndarray, lower, upper, lsig, usig):
        n = x.size
        self.x = x
        self.size = n
        self.x0 = x[0]
        if not np.isfinite(self.x0):
            raise Fallback
        # ---- place the core [cA, cB] from a strided sample -----------------
        size = min(_SAMPLE_TARGET, max(4096, n // 32))
        step = max(1, n // size)
        smp = np.sort(x[::step])
        if not (np.isfinite(smp[0]) and np.isfinite(smp[-1])):
            raise Fallback
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
            lo0 = f32(lower)
            if np.isnan(lo0):
                raise Fallback
            ia = max(ia, int(np.searchsorted(smp, lo0, "left")))
        if upper is not None:
            hi0 = f32(upper)
            if np.isnan(hi0):
                raise Fallback
            ib = min(ib, int(np.searchsorted(smp, hi0, "right")) - 1)
        if ia > ib:
            raise Fallback
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
        m = min(n, CHUNK)
        w = np.empty(n, np.float32)
        buf = np.empty(m, np.float32)
        msk = np.empty(m, bool)
        with np.errstate(all="ignore"):
            for i in range(0, n, CHUNK):
                c = x[i:i + CHUNK]
                L = c.size
                wc, b, mk = w[i:i + CHUNK], buf[:L], msk[:L]
                np.clip(c, cA, cB, out=wc)
                np.not_equal(wc, c, out=mk)  # outside [cA, cB] (or NaN)
                t = c[mk]
                if t.size:
                    ntail += t.size
                    if ntail > max_tail:
                        raise Fallback
                    parts.append(t)
                s1 += float(np.add.reduce(wc, dtype=np.float64))
                np.subtract(wc, c0, out=b)
                np.multiply(b, b, out=b)
                s2 += float(np.add.reduce(b, dtype=np.float64))
        self.w = w
        if not (math.isfinite(s1) and math.isfinite(s2)):
            raise Fallback  # NaN somewhere
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
            raise Fallback
        self.gmin = self.T_lo[0] if self.nlo else cA
        self.gmax = self.T_hi[-1] if self.nhi else cB
        if float(self.gmax) - float(self.gmin) > 1e18:
            raise Fallback  # float32 squares could overflow
        self.ncore = n - T.size
        self.sum_core = s1 - self.nlo * float(cA) - self.nhi * float(cB)
        qa, qb = sq_terms(np.array([cA, cB]), c0).astype(np.float64)
        self.S2C = s2 - self.nlo * qa - self.nhi * qb
        self.S1C = self.sum_core - self.ncore * float(c0)
        # outward prefix sums over the tails: x and float32 (x - c0)**2
        lo_out = self.T_lo[::-1]
        self.PLx = prefix(lo_out)
        self.PHx = prefix(self.T_hi)
        with np.errstate(all="ignore"):
            self.PL2 = prefix(sq_terms(lo_out, c0))
            self.PH2 = prefix(sq_terms(self.T_hi, c0))
        self._cache = {}
        self._hist_cache = {}
        self._clip_copy = None

    # ---------------------------------------------------------------- passes
    def compute_mean(self, clipmin, clipmax, need_std, exact, spec=None):
        L, U = f32(clipmin), f32(clipmax)
        if not (L <= self.cA and U >= self.cB):
            raise Fallback
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
            std = std_from_sumdiff(self._approx_sumdiff(mean32, n, cl, ch), n)
            if exact:
                geom = None
                if spec is not None:
                    # speculate: the exact std almost always equals the
                    # approximate one, so build the histogram in the same pass
                    try:
                        _hw, nb, dz = spec(std, float(mn), float(mx))
                        if nb > 1:
                            geom = self._fast_geometry(nb, dz, float(mn))
                    except (NoValue, Fallback):
                        geom = None
                sumdiff = self._exact_pass(mean32, i, j, geom)
                std = std_from_sumdiff(sumdiff, n)
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
        m = min(n, CHUNK)
        b = np.empty(m, np.float32)
        d = np.empty(m, np.float32)
        tot = 0.0
        if geom is not None:
            key, (nbins, m0, f, maxv, iA, iB, itype) = geom
            u = np.empty(m, itype)
            acc = np.zeros(iB + 1, np.int64)
        with np.errstate(all="ignore"):
            for k in range(0, n, CHUNK):
                wc = self.w[k:k + CHUNK]
                L = wc.size
                bb, dd = b[:L], d[:L]
                np.subtract(wc, m32, out=dd)
                np.multiply(dd, dd, out=dd)
                tot += float(np.add.reduce(dd, dtype=np.float64))
                if geom is not None:
                    count_chunk(wc, m0, f, bb, u[:L], acc)
            qa, qb = sq_terms(np.array([cA, cB]), m32).astype(np.float64)
            core = tot - self.nlo * qa - self.nhi * qb
            tl = float(np.add.reduce(sq_terms(self.T_lo[i:], m32), dtype=np.float64))
            th = float(np.add.reduce(sq_terms(self.T_hi[:j], m32), dtype=np.float64))
        if geom is not None:
            self._hist_cache[key] = self._complete_hist(acc, geom[1])
        return core + tl + th

    # ------------------------------------------------------------- histogram
    def _fast_geometry(self, nbins, dz, zero):
        """Geometry for a core+tails histogram, or raise Fallback."""
        m0, f, maxv = hist_geometry(nbins, dz, zero)
        cA, cB = self.cA, self.cB
        if nbins > max(1 << 16, self.size // 4) or np.isnan(m0) or np.isnan(maxv):
            raise Fallback
        if not (cA >= m0 and cB < maxv):
            raise Fallback
        iA = int(bin_index(cA, m0, f))
        iB = int(bin_index(cB, m0, f))
        if iB >= nbins:
            raise Fallback
        itype = np.uint8 if iB < 256 else (np.uint16 if iB < 65536 else np.intp)
        key = (nbins, float(dz), float(zero))
        return key, (nbins, m0, f, maxv, iA, iB, itype)

    def _complete_hist(self, acc, g):
        nbins, m0, f, maxv, iA, iB, itype = g
        counts = np.zeros(nbins, np.int64)
        acc = acc.copy()
        acc[iA] -= self.nlo  # clipped low tail landed on cA
        acc[iB] -= self.nhi  # clipped high tail landed on cB
        counts[: iB + 1] += acc
        lo_seg = self.T_lo[int(np.searchsorted(self.T_lo, m0, "left")):]
        hi_seg = self.T_hi[: int(np.searchsorted(self.T_hi, maxv, "left"))]
        nb_f = np.float32(nbins)
        for seg in (lo_seg, hi_seg):
            if seg.size:
                t = bin_index(seg, m0, f)
                np.minimum(t, nb_f, out=t)
                counts += np.bincount(t.astype(np.int64), minlength=nbins + 1)[:nbins]
        return Hist.from_counts(nbins, counts)

    def histogram(self, nbins, dz, zero):
        key, g = self._fast_geometry(nbins, dz, zero)
        if key in self._hist_cache:
            return self._hist_cache[key]
        _n, m0, f, _maxv, _ae, _iA, iB, itype = g
        n = self.size
        m = min(n, CHUNK)
        b = np.empty(m, np.float32)
        u = np.empty(m, itype)
        acc = np.zeros(iB + 1, np.int64)
        with np.errstate(all="ignore"):
            for k in range(0, n, CHUNK):
                wc = self.w[k:k + CHUNK]
                L = wc.size
                count_chunk(wc, m0, f, b[:L], u[:L], acc)
        h = self._complete_hist(acc, g)
        self._hist_cache[key] = h
        return h

    # ---------------------------------------------------------------- median
    def median(self, clipmin, clipmax, use_all):
        if use_all:
            i, j = 0, self.nhi
        else:
            lo = cmp_threshold(clipmin, "lower")
            hi = cmp_threshold(clipmax, "upper")
            if not (lo <= self.cA and hi >= self.cB):
                raise Fallback
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
