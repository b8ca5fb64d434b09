"""float32 arithmetic as stsci.imagestats' C code does it: rounding, thresholds, exact squared sums.

The engines compare, sum and take square roots in the reference's precision
so that npix, mean and std equal the reference's to the last bit.
"""

from __future__ import annotations

import numpy as np

CHUNK = 1 << 16  # elements per streaming chunk (256 KiB of float32)


def f32(v) -> np.float32:
    """C conversion of a Python number to ``float`` (PyArg "f")."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.float32(float(v))


def cmp_threshold(obj, side: str) -> np.float32:
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


def sq_sum(a: np.ndarray, m: np.float32, lo=None, hi=None) -> float:
    """sum over a of double(float32(float32(v - m)**2)), optionally with v
    first clipped to [lo, hi]; chunked so temporaries stay in cache."""
    n = a.size
    if n == 0:
        return 0.0
    buf = np.empty(min(n, CHUNK), np.float32)
    total = 0.0
    for i in range(0, n, CHUNK):
        c = a[i:i + CHUNK]
        b = buf[:c.size]
        if lo is not None:
            np.clip(c, lo, hi, out=b)
            np.subtract(b, m, out=b)
        else:
            np.subtract(c, m, out=b)
        np.multiply(b, b, out=b)
        total += float(np.add.reduce(b, dtype=np.float64))
    return total


def sq_terms(a: np.ndarray, m: np.float32) -> np.ndarray:
    d = a - m
    np.multiply(d, d, out=d)
    return d


def prefix(a: np.ndarray) -> np.ndarray:
    """[0, a0, a0+a1, ...] in double."""
    out = np.empty(a.size + 1, np.float64)
    out[0] = 0.0
    out[1:] = a
    np.cumsum(out[1:], out=out[1:])
    return out


def std_from_sumdiff(sumdiff: float, n: int) -> float:
    # C: (float)sqrt(sumdiff / (n - 1)); n == 1 -> 0/0 -> NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.float64(sumdiff) / np.float64(n - 1)
        return float(np.float32(np.sqrt(q)))
