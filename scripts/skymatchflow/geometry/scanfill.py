"""Vectorized, bit-exact re-implementation of ``gwcs.region.Polygon.scan``.

The reference skymatch (stcal ``SkyImage.calc_sky``) selects the pixels of an
image that lie inside an overlap polygon with::

    fill = gwcs.region.Polygon(True, list(zip(x, y))).scan(fill)

an integer scan-line (GET/AET) polygon fill written as a pure-Python loop over
the rows of the polygon's bounding box.  :func:`scan_fill` reproduces its
output exactly, with numpy operations only (the crossings of all edges with all
scan lines are generated at once, sorted per row, paired, and the resulting
column intervals are painted with broadcast comparisons).

Reference semantics (gwcs 1.0.3 ``gwcs/region.py``), all reproduced here:

1. ``shiftx = min(0, min x)``, ``shifty = min(0, min y)`` (only negative
   coordinates shift).  Integer vertices ``X = round(x - shiftx)``,
   ``Y = round(y - shifty)`` with Python ``round`` (round half to even, same as
   ``np.rint``); ``sx = round(shiftx)``, ``sy = round(shifty)``.
2. Edges are ``V[k-1] -> V[k]`` for ``k = 1 .. n-1``: the polygon is NOT closed
   implicitly, so a vertex list whose last point differs from the first has no
   closing edge.  Horizontal edges are never activated.
3. Scan lines ``y = ymin .. ymax`` (inclusive, integer bbox).  For ``y < ymax``
   the active edges are those with ``ymin_e <= y < ymax_e``; the last line
   ``y == ymax`` re-uses the active set of the previous line, i.e. edges whose
   upper end is ``ymax``.  If the integer bbox width is <= 0 nothing is filled.
4. The crossing of an active edge with line ``y`` is computed the way
   ``Edge.intersection`` does it (int64 determinants, one float64 division, one
   multiply and one add), then ``ceil``-ed.  Crossings are sorted and paired
   ``(c0, c1), (c2, c3), ...``; an odd leftover is ignored.
5. Row ``y + sy`` outside ``[0, ny)`` is skipped.  For a pair ``(i, j)``:
   ``xstart = max(0, i + sx)``, ``xend = min(j + sx, nx - 1)`` and the Python
   slice ``row[xstart:xend + 1]`` is set.  NOTE: Python slice semantics apply
   literally, so when ``xend + 1 < 0`` (a crossing pair entirely left of
   column -1) the negative stop index wraps around and columns
   ``0 .. nx + xend`` are filled.  This gwcs quirk is reproduced.

gwcs raises ``ValueError`` for fewer than 4 vertices and fails on non-finite
coordinates (``round(nan)``); :func:`scan_fill` raises ``ValueError`` in both
cases.
"""

from __future__ import annotations

import numpy as np

__all__ = ["scan_fill", "fill_bounding_window"]

_BLOCK_PIXELS = 1 << 18  # pixels per painting block (fits in L2 cache)


def _integer_polygon(x, y):
    """Shift + banker's rounding of the vertices, as ``Polygon.__init__``."""
    # Keep a floating input's own precision: gwcs subtracts the shift in the
    # vertices' dtype (float32 inputs give float32 differences).
    x = np.asarray(x).ravel()
    y = np.asarray(y).ravel()
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    y = y if y.dtype.kind == "f" else y.astype(np.float64)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same number of vertices")
    if x.size < 4:
        # gwcs.region.Polygon raises the same error (stcal skips such pieces).
        raise ValueError("Expected vertices to be a list of minimum 4 tuples (x,y)")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("polygon vertices must be finite")
    # Only negative coordinates shift (min with 0); subtracting 0.0 is exact.
    shx = min(x.dtype.type(0), x.min())
    shy = min(y.dtype.type(0), y.min())
    xi = np.rint(x - shx).astype(np.int64)  # np.rint == Python round (half-even)
    yi = np.rint(y - shy).astype(np.int64)
    return xi, yi, int(np.rint(shx)), int(np.rint(shy))


def _row_intervals(x, y, shape, rows=None):
    """Column intervals that ``Polygon.scan`` would set.

    Returns ``(r, c0, c1)`` int64 arrays: in image row ``r`` the columns
    ``c0 <= c < c1`` are set (every interval non-empty).  Only image rows in
    ``rows = (row0, row1)`` (default: the whole image) are computed.
    """
    ny, nx = (int(s) for s in shape)
    empty = (np.empty(0, np.int64),) * 3
    xi, yi, sx, sy = _integer_polygon(x, y)

    bx0 = xi.min()
    bw = xi.max() - bx0  # bbox width: ``if self._bbox[2] <= 0: skip``
    top = yi.max()  # last scan line (``scline``)
    if bw <= 0 or nx <= 0:
        return empty

    r0, r1 = (0, ny) if rows is None else rows
    r0, r1 = max(r0, 0), min(r1, ny)
    if r0 >= r1:
        return empty

    # Edges V[k-1] -> V[k], non-horizontal only (never activated otherwise).
    ex0, ey0 = xi[:-1], yi[:-1]
    ex1, ey1 = xi[1:], yi[1:]
    keep = ey0 != ey1
    ex0, ey0, ex1, ey1 = ex0[keep], ey0[keep], ex1[keep], ey1[keep]
    if ex0.size == 0:
        return empty
    eymin = np.minimum(ey0, ey1)
    eymax = np.maximum(ey0, ey1)
    # Active on ymin_e .. ymax_e - 1; edges ending on the last line stay active
    # on it (the last line re-uses the previous AET).
    lo = eymin
    hi = eymax - 1 + (eymax == top)
    # Restrict to scan lines whose image row y + sy lies in [r0, r1).
    lo = np.maximum(lo, r0 - sy)
    hi = np.minimum(hi, r1 - 1 - sy)
    counts = np.maximum(hi - lo + 1, 0)
    total = int(counts.sum())
    if total == 0:
        return empty

    # One entry per (edge, scan line) crossing.
    e = np.repeat(np.arange(counts.size), counts)
    first = np.cumsum(counts) - counts
    yl = lo[e] + (np.arange(total, dtype=np.int64) - first[e])

    # Edge.intersection(scan_line) with scan_line = [bx0, y] -> [bx0 + bw, y]:
    #   u = stop - start, v = (bw, 0), w = start - (bx0, y)
    #   D = u0*v1 - u1*v0 ; t = (v0*w1 - v1*w0) / D ; x = t*u0 + start0
    u0 = (ex1 - ex0)[e]
    u1 = (ey1 - ey0)[e]
    s0 = ex0[e]
    num = bw * (ey0[e] - yl) - 0 * (s0 - bx0)
    den = u0 * 0 - u1 * bw
    t = num / den  # int64 / int64 -> float64, exactly as numpy scalars do
    xf = t * u0
    xf += s0
    xc = np.ceil(xf).astype(np.int64)

    # Sort crossings per scan line and pair them (odd leftover ignored).
    order = np.lexsort((xc, yl))
    yl = yl[order]
    xc = xc[order]
    idx = np.arange(total)
    newrow = np.empty(total, dtype=bool)
    newrow[0] = True
    np.not_equal(yl[1:], yl[:-1], out=newrow[1:])
    rank = idx - np.maximum.accumulate(np.where(newrow, idx, 0))
    left = (rank % 2 == 0)[:-1] & ~newrow[1:]
    p = np.flatnonzero(left)
    r = yl[p] + sy
    a = xc[p] + sx
    b = xc[p + 1] + sx

    # data[ysh][xstart:xend + 1] with literal Python slice semantics.
    start = np.minimum(np.maximum(a, 0), nx)
    stop = np.minimum(b, nx - 1) + 1
    neg = stop < 0
    stop[neg] = np.maximum(stop[neg] + nx, 0)
    ok = start < stop
    return r[ok], start[ok], stop[ok]


def _check_window(window, shape):
    ny, nx = (int(s) for s in shape)
    if window is None:
        return 0, ny, 0, nx
    row0, row1, col0, col1 = (int(v) for v in window)
    if not (0 <= row0 <= row1 <= ny and 0 <= col0 <= col1 <= nx):
        raise ValueError(f"window {window!r} is not inside an image of shape {shape!r}")
    return row0, row1, col0, col1


def scan_fill(x, y, shape, window=None, out=None):
    """Pixels that ``gwcs.region.Polygon(True, zip(x, y)).scan`` would set.

    Parameters
    ----------
    x, y : array_like
        Polygon vertices in 0-based pixel coordinates of the full image, in
        the order given to gwcs (edges join consecutive vertices; the list is
        not closed implicitly).
    shape : (ny, nx)
        Shape of the full image.
    window : (row0, row1, col0, col1), optional
        Half-open sub-rectangle of the image to return.
    out : bool ndarray, optional
        Array of the window's shape to OR the fill into (several polygon
        pieces accumulate like successive ``scan`` calls on one mask).

    Returns
    -------
    ndarray of bool with shape ``(row1 - row0, col1 - col0)`` equal to
    ``full_mask[row0:row1, col0:col1]``.
    """
    row0, row1, col0, col1 = _check_window(window, shape)
    wshape = (row1 - row0, col1 - col0)
    if out is None:
        out = np.zeros(wshape, dtype=bool)
    elif out.shape != wshape or out.dtype != np.bool_:
        raise ValueError(f"out must be a bool array of shape {wshape}")
    if wshape[0] == 0 or wshape[1] == 0:
        # still validate the polygon the way gwcs would
        _integer_polygon(x, y)
        return out

    r, c0, c1 = _row_intervals(x, y, shape, rows=(row0, row1))
    c0 = np.maximum(c0, col0) - col0
    c1 = np.minimum(c1, col1) - col0
    ok = c0 < c1
    if not ok.any():
        return out
    r, c0, c1 = r[ok] - row0, c0[ok], c1[ok]

    # Paint the intervals.  Intervals of one row are sorted by start; the k-th
    # interval of every row is painted with broadcast comparisons over the
    # rows' span (k runs up to the largest number of intervals in one row,
    # which is bounded by half the number of edges, never by the number of
    # rows).  The comparisons run over blocks of ~256k pixels into two reused
    # buffers: window-sized temporaries would cost more in page faults than
    # the comparisons themselves.
    ncol = wshape[1]
    ctype = np.int16 if ncol < np.iinfo(np.int16).max else np.int64
    cols = np.arange(ncol, dtype=ctype)
    n = r.size
    idx = np.arange(n)
    newrow = np.empty(n, dtype=bool)
    newrow[0] = True
    np.not_equal(r[1:], r[:-1], out=newrow[1:])
    rank = idx - np.maximum.accumulate(np.where(newrow, idx, 0))
    block = max(1, _BLOCK_PIXELS // ncol)
    buf1 = np.empty((min(block, wshape[0]), ncol), dtype=bool)
    buf2 = np.empty_like(buf1)
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        rk = r[sel]
        rmin, rmax = int(rk[0]), int(rk[-1]) + 1
        # dense per-row bounds over [rmin, rmax); rows without a k-th
        # interval get the empty interval [0, 0)
        lo = np.zeros((rmax - rmin, 1), dtype=ctype)
        hi = np.zeros((rmax - rmin, 1), dtype=ctype)
        lo[rk - rmin, 0] = c0[sel]
        hi[rk - rmin, 0] = c1[sel]
        for b0 in range(0, rmax - rmin, block):
            b1 = min(b0 + block, rmax - rmin)
            t1, t2 = buf1[: b1 - b0], buf2[: b1 - b0]
            np.greater_equal(cols, lo[b0:b1], out=t1)
            np.less(cols, hi[b0:b1], out=t2)
            np.logical_and(t1, t2, out=t1)
            dst = out[rmin + b0 : rmin + b1]
            np.logical_or(dst, t1, out=dst)
    return out


def fill_bounding_window(x, y, shape):
    """Smallest half-open ``(row0, row1, col0, col1)`` window holding the fill.

    Every pixel :func:`scan_fill` sets for this polygon on an image of
    ``shape`` lies inside the returned window, and each of the window's four
    border lines holds at least one such pixel.  ``None`` if the polygon sets
    no pixel of the image.
    """
    r, c0, c1 = _row_intervals(x, y, shape)
    if r.size == 0:
        return None
    return int(r.min()), int(r.max()) + 1, int(c0.min()), int(c1.max())
