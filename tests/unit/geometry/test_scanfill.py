"""scan_fill / fill_bounding_window against the gwcs.region.Polygon.scan oracle.

gwcs is used here only as the test oracle (it is what stcal's calc_sky calls).
All randomness is seeded (numpy default_rng with fixed seeds; hypothesis with
derandomize=True), so the suite is deterministic.
"""

import math

import numpy as np
import pytest
from gwcs.region import Polygon
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skymatchflow.geometry import scanfill
from skymatchflow.geometry.scanfill import fill_bounding_window, scan_fill

HSET = settings(
    derandomize=True,
    deadline=None,
    database=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)


# --------------------------------------------------------------------------
# oracle + shared checks
# --------------------------------------------------------------------------
def gwcs_fill(x, y, shape, mask=None):
    """Exactly what stcal does: Polygon(True, list(zip(x, y))).scan(mask)."""
    if mask is None:
        mask = np.zeros(shape, dtype=bool)
    return Polygon(True, list(zip(x, y, strict=True))).scan(mask)


def closed(x, y):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    return np.r_[x, x[:1]], np.r_[y, y[:1]]


def assert_bbox_window(x, y, shape, full):
    """fill_bounding_window contains all True pixels and is tight."""
    win = fill_bounding_window(x, y, shape)
    if not full.any():
        assert win is None
        return
    rows, cols = np.nonzero(full)
    assert win == (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
    r0, r1, c0, c1 = win
    assert 0 <= r0 < r1 <= shape[0] and 0 <= c0 < c1 <= shape[1]
    inside = np.zeros(shape, dtype=bool)
    inside[r0:r1, c0:c1] = True
    assert not (full & ~inside).any()
    # tight: each border line of the window holds a True pixel
    assert full[r0, c0:c1].any() and full[r1 - 1, c0:c1].any()
    assert full[r0:r1, c0].any() and full[r0:r1, c1 - 1].any()
    # the windowed fill equals the slice
    np.testing.assert_array_equal(scan_fill(x, y, shape, window=win), full[r0:r1, c0:c1])


def check(x, y, shape, rng=None):
    """scan_fill == gwcs on the full image (+ bbox window, + a random window)."""
    ref = gwcs_fill(x, y, shape)
    got = scan_fill(x, y, shape)
    assert got.shape == tuple(shape) and got.dtype == np.bool_
    if not np.array_equal(got, ref):
        diff = np.argwhere(got != ref)
        pytest.fail(f"mismatch at {len(diff)} pixels, first {diff[:5].tolist()}; x={list(x)} y={list(y)} shape={shape}")
    assert_bbox_window(x, y, shape, ref)
    if rng is not None:
        r0, r1 = np.sort(rng.integers(0, shape[0] + 1, 2))
        c0, c1 = np.sort(rng.integers(0, shape[1] + 1, 2))
        np.testing.assert_array_equal(
            scan_fill(x, y, shape, window=(r0, r1, c0, c1)), ref[r0:r1, c0:c1]
        )
    return ref


def star_polygon(rng, cx, cy, rmax, n):
    """Random star-shaped (generally concave) simple polygon."""
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.1, 1.0, n) * rmax
    return cx + rad * np.cos(ang), cy + rad * np.sin(ang)


def convex_hull(px, py):
    """Monotone chain convex hull (counter-clockwise, not closed)."""
    pts = sorted(set(zip(px.tolist(), py.tolist(), strict=True)))
    if len(pts) < 3:
        return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return np.array([p[0] for p in hull]), np.array([p[1] for p in hull])


# --------------------------------------------------------------------------
# worked examples (doc section 3.2)
# --------------------------------------------------------------------------
def test_integer_rectangle_is_boundary_inclusive():
    x, y = closed([2, 6, 6, 2], [2, 2, 6, 6])
    got = check(x, y, (10, 10))
    assert got.sum() == 25
    assert np.array_equal(np.argwhere(got.any(1)).ravel(), np.arange(2, 7))
    assert np.array_equal(np.argwhere(got.any(0)).ravel(), np.arange(2, 7))


@pytest.mark.parametrize("n", [1, 2, 7, 10, 33])
def test_full_image_polygon_fills_everything(n):
    x, y = closed([-0.5, n - 0.5, n - 0.5, -0.5], [-0.5, -0.5, n - 0.5, n - 0.5])
    assert check(x, y, (n, n)).all()
    assert fill_bounding_window(x, y, (n, n)) == (0, n, 0, n)


def test_halves_share_the_boundary_column():
    left = closed([-0.5, 4.5, 4.5, -0.5], [-0.5, -0.5, 9.5, 9.5])
    right = closed([4.5, 9.5, 9.5, 4.5], [-0.5, -0.5, 9.5, 9.5])
    lm = check(*left, (10, 10))
    rm = check(*right, (10, 10))
    assert np.array_equal(np.flatnonzero(lm.any(0)), np.arange(0, 6))
    assert np.array_equal(np.flatnonzero(rm.any(0)), np.arange(4, 10))
    assert lm.all(0)[:6].all() and rm.all(0)[4:].all()
    # OR-accumulating both pieces covers the image
    out = scan_fill(*left, (10, 10))
    assert scan_fill(*right, (10, 10), out=out) is out
    assert out.all()


def test_slanted_edge_uses_ceil():
    # edge (0,0)-(9,4) crosses y=1 at x=2.25 -> columns 0..3 filled
    x, y = closed([0, 9, 0], [0, 4, 4])
    got = check(x, y, (10, 10))
    assert np.array_equal(np.flatnonzero(got[1]), np.arange(0, 4))


def test_orientation_irrelevant():
    rng = np.random.default_rng(11)
    for _ in range(50):
        x, y = convex_hull(rng.uniform(-3, 20, 7), rng.uniform(-3, 20, 7))
        if x.size < 3:
            continue
        a = check(*closed(x, y), (17, 19))
        b = check(*closed(x[::-1], y[::-1]), (17, 19))
        assert np.array_equal(a, b)


# --------------------------------------------------------------------------
# rounding / shift / floating-point details
# --------------------------------------------------------------------------
@pytest.mark.parametrize("v", [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 6.5])
def test_half_integer_vertices_use_bankers_rounding(v):
    # a rectangle whose left and bottom edges are exactly on v
    x, y = closed([v, 8.0, 8.0, v], [v, v, 8.0, 8.0])
    got = check(x, y, (12, 12))
    if v >= 0:  # no shift: first filled column/row is round(v)
        assert np.flatnonzero(got.any(0))[0] == round(v)
        assert np.flatnonzero(got.any(1))[0] == round(v)


def test_negative_shift_rounds_shift_separately():
    # shift = -0.6: X = round(x + 0.6), sx = round(-0.6) = -1
    x, y = closed([-0.6, 3.4, 3.4, -0.6], [1.0, 1.0, 3.0, 3.0])
    got = check(x, y, (6, 8))
    # round(4.0) + (-1) = 3 -> columns 0..3
    assert np.array_equal(np.flatnonzero(got.any(0)), np.arange(0, 4))
    # shift = -1.5 -> sx = -2 (banker's), X = round(x + 1.5)
    x, y = closed([-1.5, 2.6, 2.6, -1.5], [0.5, 0.5, 3.5, 3.5])
    got = check(x, y, (6, 8))
    assert np.array_equal(np.flatnonzero(got.any(0)), np.arange(0, 3))


def test_polygon_left_of_image_wraps_like_gwcs():
    """gwcs slices row[0:xend+1] with a negative stop -> wrap-around fill.

    A polygon wholly at x in [-10, -3] fills columns 0..nx-3 of its rows (a
    gwcs quirk the doc's "clip to [0, nx-1]" description does not mention).
    """
    x, y = closed([-10.0, -3.0, -3.0, -10.0], [1.0, 1.0, 3.0, 3.0])
    got = check(x, y, (5, 12))
    expect = np.zeros((5, 12), dtype=bool)
    expect[1:4, :10] = True
    np.testing.assert_array_equal(got, expect)
    # crossing pair ending at column -1 -> empty slice [0:0]
    x, y = closed([-4.0, -1.0, -1.0, -4.0], [1.0, 1.0, 3.0, 3.0])
    assert not check(x, y, (5, 12)).any()
    assert fill_bounding_window(x, y, (5, 12)) is None
    # very far left: the negative stop is below -nx -> empty
    x, y = closed([-100.0, -40.0, -40.0, -100.0], [1.0, 1.0, 3.0, 3.0])
    assert not check(x, y, (5, 12)).any()


def test_intersection_arithmetic_matches_gwcs_not_naive_formula():
    """Crossings x = fl(fl(t*dx) + x0), t = fl(dy'/dy) as in Edge.intersection.

    Find integer edges where a naive x0 + (y-y0)*dx/dy ceils differently, and
    check polygons built on them (so the test is sensitive to the formula).
    """
    cases = []
    for dy in range(1, 80):
        for dx in range(1, 80):
            for k in range(1, dy):
                exact_int = (k * dx) % dy == 0
                gw = (k / dy) * dx  # gwcs order: t then * dx then + x0
                if exact_int and math.ceil(gw) != k * dx // dy:
                    cases.append((dx, dy))
                    break
    assert cases, "expected float cases where ceil(t*dx) != exact"
    for dx, dy in cases[:40]:
        # triangle with the slanted edge (0,0)->(dx,dy) on the right side
        x, y = closed([0.0, float(dx), 0.0], [0.0, float(dy), float(dy)])
        check(x, y, (dy + 2, dx + 2))
        # mirrored direction of travel (start at the top vertex)
        x, y = closed([float(dx), 0.0, 0.0], [float(dy), 0.0, float(dy)])
        check(x, y, (dy + 2, dx + 2))


def test_float32_and_integer_vertices_keep_gwcs_precision():
    # float32(0.8) - float32(-1.7) == 2.5 in float32 (-> round 2) but
    # 2.50000006 in float64 (-> round 3): gwcs subtracts in the input dtype
    x = np.array([-1.7, 0.8, 0.8, -1.7, -1.7], dtype=np.float32)
    y = np.array([1.0, 1.0, 4.0, 4.0, 1.0], dtype=np.float32)
    got = check(x, y, (6, 6))
    assert np.array_equal(np.flatnonzero(got.any(0)), np.arange(0, 1))  # 2 + round(-1.7)
    assert not np.array_equal(got, gwcs_fill(x.astype(np.float64), y.astype(np.float64), (6, 6)))
    rng = np.random.default_rng(12)
    for _ in range(200):
        k = rng.integers(4, 8)
        x = (rng.integers(-30, 40, k) / 10).astype(np.float32)
        y = (rng.integers(-30, 40, k) / 10).astype(np.float32)
        check(x, y, (5, 5))
        check(np.rint(x).astype(int), np.rint(y).astype(int), (5, 5))


def test_nonclosed_list_has_no_closing_edge():
    # the same 4 corners: closed -> rectangle; not closed -> no left edge
    xs, ys = [1.0, 6.0, 6.0, 1.0], [1.0, 1.0, 5.0, 5.0]
    a = check(*closed(xs, ys), (8, 8))
    b = check(xs, ys, (8, 8))
    assert a.sum() == 30 and not b.any()  # a lone right edge never pairs


# --------------------------------------------------------------------------
# degenerate polygons
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, y",
    [
        ([3.2, 3.2, 3.2, 3.2], [4.1, 4.1, 4.1, 4.1]),  # all points equal
        ([1.0, 4.0, 7.0, 1.0], [1.0, 4.0, 7.0, 1.0]),  # collinear diagonal
        ([1.0, 7.0, 1.0, 7.0], [2.0, 2.0, 2.0, 2.0]),  # horizontal segment
        ([3.0, 3.0, 3.0, 3.0], [1.0, 7.0, 1.0, 7.0]),  # vertical segment
        ([1.0, 6.0, 1.0, 1.0], [1.0, 5.0, 1.0, 1.0]),  # two points, closed
        ([1.0, 6.0, 6.0, 1.0], [1.0, 5.0, 5.0, 1.0]),  # two points, repeated
        ([1.0, 6.0, 1.0, 6.0], [1.0, 5.0, 1.0, 5.0]),  # two points back and forth
        ([2.4, 2.6, 2.6, 2.4, 2.4], [2.4, 2.4, 2.6, 2.6, 2.4]),  # rounds to a point
        ([2.1, 2.4, 2.3, 2.1], [2.1, 2.2, 2.45, 2.1]),  # inside one pixel
        ([-5.0, -5.0, -5.0, -5.0], [-5.0, -5.0, -5.0, -5.0]),
        ([1e-9, 9.0, 9.0, 1e-9], [0.0, 0.0, 0.0, 0.0]),
    ],
)
def test_degenerate(x, y):
    check(np.array(x), np.array(y), (9, 10))


def test_too_few_vertices_and_nonfinite_raise_like_gwcs():
    with pytest.raises(ValueError):
        Polygon(True, [(0, 0), (1, 1), (0, 0)])
    with pytest.raises(ValueError):
        scan_fill([0.0, 1.0, 0.0], [0.0, 1.0, 0.0], (4, 4))
    with pytest.raises(ValueError):
        fill_bounding_window([0.0, 1.0, 0.0], [0.0, 1.0, 0.0], (4, 4))
    nan_x = [0.0, 3.0, np.nan, 0.0]
    with pytest.raises(ValueError):
        gwcs_fill(nan_x, [0.0, 0.0, 3.0, 0.0], (4, 4))
    with pytest.raises(ValueError):
        scan_fill(nan_x, [0.0, 0.0, 3.0, 0.0], (4, 4))


# --------------------------------------------------------------------------
# random polygons (seeded numpy)
# --------------------------------------------------------------------------
def test_random_convex_polygons():
    rng = np.random.default_rng(1)
    for i in range(300):
        ny, nx = rng.integers(1, 40, 2)
        k = rng.integers(3, 12)
        cx, cy = rng.uniform(-10, nx + 10), rng.uniform(-10, ny + 10)
        s = rng.uniform(0.3, 40)
        x, y = convex_hull(cx + s * rng.standard_normal(k), cy + s * rng.standard_normal(k))
        if x.size < 3:
            continue
        if i % 3 == 0:  # rotate start vertex
            j = rng.integers(x.size)
            x, y = np.roll(x, j), np.roll(y, j)
        check(*closed(x, y), (ny, nx), rng)


def test_random_star_shaped_concave_polygons():
    rng = np.random.default_rng(2)
    for _ in range(300):
        ny, nx = rng.integers(1, 40, 2)
        x, y = star_polygon(
            rng, rng.uniform(-10, nx + 10), rng.uniform(-10, ny + 10),
            rng.uniform(0.5, 40), rng.integers(3, 16),
        )
        check(*closed(x, y), (ny, nx), rng)


def test_random_arbitrary_vertex_lists_closed_and_open():
    # random vertex order: self-intersecting polygons, open and closed lists
    rng = np.random.default_rng(3)
    for i in range(400):
        ny, nx = rng.integers(1, 30, 2)
        k = rng.integers(4, 10)
        x = rng.uniform(-8, nx + 8, k)
        y = rng.uniform(-8, ny + 8, k)
        if i % 2:
            x, y = closed(x, y)
        check(x, y, (ny, nx), rng)


@pytest.mark.parametrize("grid", [1.0, 0.5, 0.25])
def test_random_polygons_on_integer_and_half_grids(grid):
    rng = np.random.default_rng(int(grid * 100))
    for i in range(250):
        ny, nx = rng.integers(1, 25, 2)
        k = rng.integers(3, 9)
        x = rng.integers(-6, int(nx / grid) + 6, k) * grid
        y = rng.integers(-6, int(ny / grid) + 6, k) * grid
        if i % 2 == 0:  # mix in .5 offsets on one axis only
            y = y + 0.5 * (i % 4 == 0)
        if i % 3:
            x, y = closed(x, y)
        if x.size < 4:
            continue
        check(x, y, (ny, nx), rng)


def test_tiny_polygons_and_thin_slivers():
    rng = np.random.default_rng(4)
    for i in range(300):
        ny, nx = rng.integers(1, 20, 2)
        cx, cy = rng.uniform(-2, nx + 1), rng.uniform(-2, ny + 1)
        if i % 2:  # tiny: all vertices within one pixel
            x, y = star_polygon(rng, cx, cy, rng.uniform(0.01, 0.7), rng.integers(3, 7))
        else:  # sliver: long thin quadrilateral at a random angle
            a = rng.uniform(0, np.pi)
            length = rng.uniform(3, 40)
            width = rng.uniform(1e-6, 0.8)
            ux, uy = np.cos(a), np.sin(a)
            vx, vy = -uy * width, ux * width
            x = cx + np.array([0, length * ux, length * ux + vx, vx])
            y = cy + np.array([0, length * uy, length * uy + vy, vy])
        check(*closed(x, y), (ny, nx), rng)


def test_triangles():
    rng = np.random.default_rng(5)
    for _ in range(300):
        ny, nx = rng.integers(1, 30, 2)
        x = rng.uniform(-5, nx + 5, 3)
        y = rng.uniform(-5, ny + 5, 3)
        check(*closed(x, y), (ny, nx), rng)


def test_polygons_partly_or_wholly_outside():
    rng = np.random.default_rng(6)
    for i in range(300):
        ny, nx = rng.integers(1, 25, 2)
        side = i % 5
        sx = [-40.0, nx + 1.0, 0.0, 0.0, -15.0][side]
        sy = [0.0, 0.0, -40.0, ny + 1.0, -15.0][side]
        x, y = star_polygon(
            rng, sx + rng.uniform(-10, 30), sy + rng.uniform(-10, 30),
            rng.uniform(1, 30), rng.integers(3, 9),
        )
        check(*closed(x, y), (ny, nx), rng)


def test_realistic_image_sized_quadrilateral():
    rng = np.random.default_rng(7)
    shape = (300, 280)
    for _ in range(4):
        # a rotated, slightly sheared footprint overlap (like an inverse WCS)
        cx, cy = rng.uniform(0, 280), rng.uniform(0, 300)
        x, y = star_polygon(rng, cx, cy, 250, 4)
        x, y = closed(x, y)
        check(x, y, shape, rng)


# --------------------------------------------------------------------------
# OR-accumulation, windows
# --------------------------------------------------------------------------
def test_pieces_or_accumulate_like_sequential_scans():
    rng = np.random.default_rng(8)
    for _ in range(60):
        ny, nx = rng.integers(1, 30, 2)
        ref = np.zeros((ny, nx), dtype=bool)
        got = np.zeros((ny, nx), dtype=bool)
        r0, r1 = np.sort(rng.integers(0, ny + 1, 2))
        c0, c1 = np.sort(rng.integers(0, nx + 1, 2))
        wgot = np.zeros((r1 - r0, c1 - c0), dtype=bool)
        for _piece in range(rng.integers(1, 5)):
            x, y = star_polygon(rng, rng.uniform(-5, nx + 5), rng.uniform(-5, ny + 5),
                                rng.uniform(0.5, 20), rng.integers(3, 9))
            x, y = closed(x, y)
            ref = gwcs_fill(x, y, (ny, nx), ref)
            assert scan_fill(x, y, (ny, nx), out=got) is got
            assert scan_fill(x, y, (ny, nx), window=(r0, r1, c0, c1), out=wgot) is wgot
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(wgot, ref[r0:r1, c0:c1])


def test_window_equals_slice_with_blocked_painting(monkeypatch):
    # tiny painting blocks exercise the block loop on small images
    rng = np.random.default_rng(9)
    for block in (1, 3, 7, 64):
        monkeypatch.setattr(scanfill, "_BLOCK_PIXELS", block)
        for _ in range(40):
            ny, nx = rng.integers(1, 30, 2)
            x, y = star_polygon(rng, rng.uniform(-5, nx + 5), rng.uniform(-5, ny + 5),
                                rng.uniform(0.5, 25), rng.integers(3, 12))
            x, y = closed(x, y)
            ref = check(x, y, (ny, nx), rng)
            for _w in range(3):
                r0, r1 = np.sort(rng.integers(0, ny + 1, 2))
                c0, c1 = np.sort(rng.integers(0, nx + 1, 2))
                np.testing.assert_array_equal(
                    scan_fill(x, y, (ny, nx), window=(r0, r1, c0, c1)), ref[r0:r1, c0:c1]
                )


def test_window_and_out_validation():
    x, y = closed([1.0, 5.0, 5.0, 1.0], [1.0, 1.0, 5.0, 5.0])
    assert scan_fill(x, y, (8, 8), window=(3, 3, 0, 8)).shape == (0, 8)
    assert scan_fill(x, y, (8, 8), window=(0, 8, 5, 5)).shape == (8, 0)
    with pytest.raises(ValueError):
        scan_fill(x, y, (8, 8), window=(0, 9, 0, 8))
    with pytest.raises(ValueError):
        scan_fill(x, y, (8, 8), window=(4, 3, 0, 8))
    with pytest.raises(ValueError):
        scan_fill(x, y, (8, 8), out=np.zeros((8, 7), bool))
    with pytest.raises(ValueError):
        scan_fill(x, y, (8, 8), out=np.zeros((8, 8), np.uint8))
    # out is OR-ed into, not overwritten
    out = np.zeros((8, 8), bool)
    out[7, 7] = True
    scan_fill(x, y, (8, 8), out=out)
    assert out[7, 7] and out[1:6, 1:6].all()


# --------------------------------------------------------------------------
# hypothesis
# --------------------------------------------------------------------------
coord = st.one_of(
    st.floats(-12, 40, allow_nan=False, allow_infinity=False),
    st.integers(-24, 80).map(lambda k: k / 2.0),  # integers and exact x.5
)


@HSET
@given(
    shape=st.tuples(st.integers(1, 25), st.integers(1, 25)),
    pts=st.lists(st.tuples(coord, coord), min_size=3, max_size=9),
    close=st.booleans(),
)
def test_hypothesis_arbitrary_polygons(shape, pts, close):
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    if close:
        x, y = closed(x, y)
    if x.size < 4:
        return
    check(x, y, shape)


@HSET
@given(
    shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    cx=coord, cy=coord,
    radius=st.floats(0.05, 30),
    n=st.integers(3, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_hypothesis_star_polygons(shape, cx, cy, radius, n, seed):
    rng = np.random.default_rng(seed)
    x, y = star_polygon(rng, cx, cy, radius, n)
    check(*closed(x, y), shape, rng)


@HSET
@given(
    shape=st.tuples(st.integers(1, 20), st.integers(1, 20)),
    x0=coord, x1=coord, y0=coord, y1=coord,
)
def test_hypothesis_axis_aligned_rectangles(shape, x0, x1, y0, y1):
    got = check(*closed([x0, x1, x1, x0], [y0, y0, y1, y1]), shape)
    # a rectangle is filled as a (possibly empty) rectangle of pixels, except
    # in the gwcs wrap-around case (wholly left of column -1)
    if got.any() and max(x0, x1) >= -1:
        rows, cols = np.nonzero(got)
        assert got[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
