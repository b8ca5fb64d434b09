"""Overlap discovery equals the reference's all-pairs notion of overlap.

Oracle: stcal's ``SkyImage.intersection`` on SkyImage objects built from the
same astropy WCS (their ``_polygon`` is the footprint, see test_footprint.py),
applied to ALL pairs in both directions, as ``_overlap_matrix`` does.

Note: spherical_geometry's areas are quantised (Girard sum, ~8.9e-16 sr for
4-vertex polygons) and the last bits depend on set-iteration order inside its
graph code, so areas are compared with a tolerance; the zero / non-zero
decision is compared exactly.
"""

import math
from functools import cache

import numpy as np
import pytest
from spherical_geometry.polygon import MalformedPolygonError, SphericalPolygon
from stcal.skymatch.skyimage import SkyImage

from helpers.images import tan_wcs
from skymatchflow.geometry._classify import AMBIGUOUS, DISJOINT, OVERLAP, classify_candidates
from skymatchflow.geometry.candidates import bounding_caps, candidate_pairs, candidate_pairs_with
from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.geometry.intersection import intersect_polygons
from skymatchflow.geometry.overlaps import group_pairs, overlapping_image_pairs

ARCSEC = 1.0 / 3600.0


def wcs_for(shape, ra, dec, scale_arcsec, rotation_deg, sip=False):
    return tan_wcs(shape, crval=(ra % 360.0, dec), scale_arcsec=scale_arcsec, rotation_deg=rotation_deg, sip=sip)


def sky_image(shape, wcs, stepsize=None, sky_id=None):
    def fwd(x, y, with_bounding_box=False):
        return wcs.all_pix2world(x, y, 0)

    def inv(ra, dec, with_bounding_box=False):
        return wcs.all_world2pix(ra, dec, 0)

    return SkyImage(np.zeros(shape, np.float32), np.ones(shape, bool), fwd, inv, skystat=None,
                    sky_id=sky_id, stepsize=stepsize)


def oracle(images):
    """The reference's per-direction areas for ALL pairs (i < j), keeping pairs with any area > 0."""
    out = []
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            a_ij = float(np.fabs(images[i].intersection(images[j]).area()))
            a_ji = float(np.fabs(images[j].intersection(images[i]).area()))
            if a_ij > 0 or a_ji > 0:
                out.append((i, j, a_ij, a_ji))
    return out


def scatter(rng, n, ra0, dec0, spread_deg):
    """n random sky positions within ~spread_deg of (ra0, dec0), uniform on the tangent plane."""
    plane = tan_wcs(crval=(ra0, dec0), scale_arcsec=3600.0, crpix=(1.0, 1.0))  # 1 pixel = 1 degree
    xy = rng.uniform(-spread_deg, spread_deg, size=(n, 2))
    ra, dec = plane.all_pix2world(xy[:, 0], xy[:, 1], 0)
    return ra, dec


def layout(name):
    """(shape, [wcs], stepsize) for each named random layout (deterministic)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "ra_wrap":
        shape, scale, n = (100, 120), 2.0, 10
        ra, dec = scatter(rng, n, 0.0, 10.0, 0.05)
    elif name == "north_pole":
        shape, scale, n = (100, 100), 3.0, 11
        ra, dec = scatter(rng, n - 2, 0.0, 90.0, 0.09)
        ra = np.concatenate([ra, [0.0, 123.0]])
        dec = np.concatenate([dec, [90.0 - 10 * ARCSEC, 90.0 - 60 * ARCSEC]])  # contain the pole
    elif name == "south_pole":
        shape, scale, n = (100, 100), 3.0, 11
        ra, dec = scatter(rng, n - 2, 0.0, -90.0, 0.09)
        ra = np.concatenate([ra, [270.0, 45.0]])
        dec = np.concatenate([dec, [-90.0 + 5 * ARCSEC, -90.0 + 40 * ARCSEC]])
    elif name == "large":
        shape, scale, n = (100, 100), 0.3 * 3600, 9  # 30 deg footprints
        ra = np.concatenate([rng.uniform(-40, 40, n - 2), [10.0, 200.0]])
        dec = np.concatenate([rng.uniform(-30, 30, n - 2), [75.0, 70.0]])
    elif name == "tiny":
        shape, scale, n = (10, 12), 0.1, 10  # ~1 arcsec footprints
        ra, dec = scatter(rng, n, 359.9999, -45.0, 1.2 * ARCSEC)
    else:
        raise KeyError(name)
    rot = rng.uniform(0, 90, size=len(ra))
    return shape, [wcs_for(shape, r, d, scale, t) for r, d, t in zip(ra, dec, rot)], None


@cache
def prepared(name):
    shape, wcss, stepsize = layout(name)
    images = [sky_image(shape, w, stepsize, sky_id=k) for k, w in enumerate(wcss)]
    polygons = [footprint_polygon(shape, w, stepsize)[0] for w in wcss]
    return images, polygons, oracle(images)


def assert_same_pairs(found, expected):
    assert [p[:2] for p in found] == [p[:2] for p in expected]
    for f, e in zip(found, expected):
        # zero / non-zero per direction exactly; values to the reference's own jitter
        assert (f[2] > 0, f[3] > 0) == (e[2] > 0, e[3] > 0), (f, e)
        np.testing.assert_allclose(f[2:], e[2:], rtol=1e-6, atol=1e-14)


LAYOUTS = ["ra_wrap", "north_pole", "south_pole", "large", "tiny"]


@pytest.mark.parametrize("name", LAYOUTS)
def test_discovery_matches_brute_force(name):
    images, polygons, expected = prepared(name)
    assert len(expected) >= 3, "layout must have overlaps to be meaningful"
    assert len(expected) < len(polygons) * (len(polygons) - 1) // 2, "and some disjoint pairs"
    # footprints are stcal's polygons, bit for bit
    for im, poly in zip(images, polygons):
        assert np.array_equal(list(im._polygon.points)[0], list(poly.points)[0])
    cands = candidate_pairs(polygons)
    assert set(map(tuple, cands.tolist())) >= {p[:2] for p in expected}
    assert np.all(cands[:, 0] < cands[:, 1])
    assert np.array_equal(cands, np.unique(cands, axis=0))
    assert_same_pairs(overlapping_image_pairs(polygons, exact=True), expected)
    fast = overlapping_image_pairs(polygons, exact=False)
    assert [p[:2] for p in fast] == [p[:2] for p in expected]
    for f, e in zip(fast, expected):
        assert (f[2] > 0, f[3] > 0) == (e[2] > 0, e[3] > 0)
        np.testing.assert_allclose(f[2:], e[2:], rtol=1e-4, atol=4e-15)


def test_pole_layouts_really_contain_the_pole():
    for name, z in (("north_pole", 1.0), ("south_pole", -1.0)):
        _, polygons, _ = prepared(name)
        assert sum(bool(p.contains_point([0.0, 0.0, z])) for p in polygons) >= 2


def test_stepsize_sampled_polygons():
    shape = (64, 80)
    rng = np.random.default_rng(7)
    ra, dec = scatter(rng, 4, 150.0, 2.0, 30 * ARCSEC)
    wcss = [wcs_for(shape, r, d, 0.6, t, sip=True) for r, d, t in zip(ra, dec, rng.uniform(0, 60, 4))]
    wcss.append(wcs_for(shape, 150.2, 2.0, 0.6, 10.0, sip=True))  # far away
    images = [sky_image(shape, w, 20) for w in wcss]
    polygons = [footprint_polygon(shape, w, 20)[0] for w in wcss]
    assert len(list(polygons[0].points)[0]) == 2 * (5 + 4 - 2) + 1
    expected = oracle(images)
    assert len(expected) >= 2
    assert_same_pairs(overlapping_image_pairs(polygons, exact=True), expected)
    assert [p[:2] for p in overlapping_image_pairs(polygons, exact=False)] == [p[:2] for p in expected]


def test_candidates_are_conservative_and_few_on_random_field():
    """Cheap necessary condition on many polygons: the reference's intersects_poly."""
    rng = np.random.default_rng(11)
    n = 60
    ra, dec = scatter(rng, n, 359.98, 30.0, 0.06)
    shape = (100, 120)
    polygons = [footprint_polygon(shape, wcs_for(shape, r, d, 1.5, t))[0]
                for r, d, t in zip(ra, dec, rng.uniform(0, 90, n))]
    cands = set(map(tuple, candidate_pairs(polygons).tolist()))
    touching = set()
    for i in range(n):
        for j in range(i + 1, n):
            if list(polygons[i])[0].intersects_poly(list(polygons[j])[0]):
                touching.add((i, j))
    assert touching <= cands
    assert len(cands) <= 2.5 * len(touching) + 5


def _random_caps(seed, n, smallest, largest, special):
    """n random unit vectors and cap radii log-uniform in [smallest, largest], the first ones set to ``special``."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1)[:, None]
    r = np.exp(rng.uniform(np.log(smallest), np.log(largest), n))
    r[: len(special)] = special
    return v, r


def test_candidate_pairs_kdtree_equals_brute_cap_test():
    # a few large ones and a point-like one; a degenerate (NaN) one is never a candidate
    v, r = _random_caps(3, 3000, 1e-4, 0.05, [0.5, 1.0, math.pi, 1e-7, 0.2, np.nan])
    got = candidate_pairs(None, caps=(v, r))
    ang = np.arctan2(np.linalg.norm(np.cross(v[:, None], v[None]), axis=2), v @ v.T)
    ok = (ang <= r[:, None] + r[None, :]) & np.isfinite(r)[:, None] & np.isfinite(r)[None, :]
    i, j = np.nonzero(np.triu(ok, 1))
    assert np.array_equal(got, np.column_stack((i, j)))


def test_candidate_pairs_direct_equals_kdtree(monkeypatch):
    """Small graphs compare every pair's caps without scipy's KD-tree: the same pairs as the tree finds."""
    import skymatchflow.geometry.candidates as candidates

    n = 400
    v, r = _random_caps(11, n, 1e-3, 0.3, [math.pi, 1e-7, 0.9, np.nan])
    assert n <= candidates.DIRECT_MAX
    direct = candidate_pairs(None, caps=(v, r))
    monkeypatch.setattr(candidates, "DIRECT_MAX", 1)
    tree = candidate_pairs(None, caps=(v, r))
    assert len(direct) > n  # overlaps exist, and pairs with the point-like and the pi cap among them
    assert np.array_equal(direct, tree)
    assert candidate_pairs(None, caps=(v[:1], r[:1])).shape == (0, 2)


def test_candidates_of_a_few_footprints_are_those_of_the_whole_set():
    """An added footprint's candidates, found without the tree, are exactly the whole set's pairs that involve it."""
    n = 2000
    v, r = _random_caps(5, n, 1e-3, 0.1, [math.pi, np.nan, 1e-7])
    caps = (v, r)
    whole = candidate_pairs(None, caps=caps)  # above DIRECT_MAX: through the tree
    for involved in ([7], [0, 1, 2, 1999], [5, 6, 500, 1234], []):
        mask = np.isin(whole[:, 0], involved) | np.isin(whole[:, 1], involved)
        assert np.array_equal(candidate_pairs_with(caps, involved), whole[mask])
    assert len(candidate_pairs_with(caps, [0])) == n - 2  # the pi cap: every footprint with an area


def test_caps_contain_the_outline_including_arcs():
    rng = np.random.default_rng(5)
    for k in range(20):
        shape = (50, 70)
        scale = [0.5, 60.0, 3600.0 * 0.4][k % 3]
        dec = [0.0, 89.95, -89.99, 45.0][k % 4]
        w = wcs_for(shape, rng.uniform(0, 360), dec, scale, rng.uniform(0, 90))
        poly = footprint_polygon(shape, w, 25 if k % 2 else None)[0]
        centres, radii = bounding_caps([poly])
        assert radii[0] < math.pi / 2
        pts = list(poly.points)[0]
        for a, b in zip(pts[:-1], pts[1:]):
            t = np.linspace(0, 1, 50)[:, None]
            arc = a + t * (b - a)
            arc /= np.linalg.norm(arc, axis=1)[:, None]
            assert np.all(np.arccos(np.clip(arc @ centres[0], -1, 1)) <= radii[0])


def test_big_and_degenerate_polygons():
    small = SphericalPolygon.from_radec([10, 11, 11, 10, 10], [0, 0, 1, 1, 0])
    sub = list(small)[0]
    far = np.array([-1.0, 0.0, 0.0])
    from spherical_geometry.polygon import SingleSphericalPolygon

    big = SphericalPolygon([SingleSphericalPolygon(sub.points, inside=far)])  # the complement
    assert abs(big.area()) > 2 * math.pi
    other = SphericalPolygon.from_radec([200, 201, 201, 200, 200], [0, 0, 1, 1, 0])  # far from `small`
    empty = SphericalPolygon([])
    polygons = [small, big, other, empty]
    _, radii = bounding_caps(polygons)
    assert radii[1] == math.pi and np.isnan(radii[3]) and radii[0] < 0.02
    cands = set(map(tuple, candidate_pairs(polygons).tolist()))
    assert cands == {(0, 1), (1, 2)}
    expected = [
        (i, j, float(abs(intersect_polygons(polygons[i], polygons[j]).area())),
         float(abs(intersect_polygons(polygons[j], polygons[i]).area())))
        for i in range(4) for j in range(i + 1, 4)
    ]
    expected = [e for e in expected if e[2] > 0 or e[3] > 0]
    # the complement of `small` contains `other`; and (reference quirk) a polygon
    # and its complement, which share only their outline, get a non-zero area
    assert [e[:2] for e in expected] == [(0, 1), (1, 2)]
    for exact in (True, False):
        assert_same_pairs(overlapping_image_pairs(polygons, exact=exact), expected)
    assert expected[1][2] == pytest.approx(abs(other.area()), rel=1e-9)


def _near_identical(seed):
    """A footprint and a copy with unit-vector components perturbed by ~eps (found by scanning seeds)."""
    rng = np.random.default_rng(seed)
    shape = (64, 80)
    w = tan_wcs(shape, crval=(rng.uniform(0, 360), rng.uniform(-60, 60)), rotation_deg=rng.uniform(0, 90),
                scale_arcsec=rng.choice([0.5, 5, 50]))
    step = rng.choice([None, None, 20])
    p1 = footprint_polygon(shape, w, step)[0]
    eps = rng.choice([1e-10, 1e-9, 1e-11, 3e-10, 1e-12])
    pts = list(p1.points)[0][:-1]
    pts = pts + rng.normal(scale=eps, size=pts.shape)
    if rng.random() < 0.3:
        pts = np.roll(pts, 1, axis=0)
    pts /= np.linalg.norm(pts, axis=1)[:, None]
    return shape, w, step, p1, SphericalPolygon(np.vstack([pts, pts[:1]]))


def test_malformed_polygon_fallback_is_stcals():
    shape, w, step, p1, p2 = _near_identical(1253)
    diff = np.max(np.abs(list(p1.points)[0] - list(p2.points)[0]))
    assert 0 < diff < 2e-9
    with pytest.raises(MalformedPolygonError):
        p1.intersection(p2)
    im1 = sky_image(shape, w, step, "a")
    im2 = sky_image(shape, w, step, "b")
    im2._polygon = p2  # same outline perturbed by ~1e-10
    for a, b, ima, imb in ((p1, p2, im1, im2), (p2, p1, im2, im1)):
        ours = intersect_polygons(a, b)
        ref = ima.intersection(imb)
        assert ours is not a  # a copy, as stcal
        assert np.array_equal(list(ours.points)[0], list(ref.points)[0])
        assert np.array_equal(list(ours.points)[0], list(a.points)[0])
        assert ours.area() == ref.area() == a.area()
    # both directions are non-zero (self copies): listed, with each side's own area
    found = overlapping_image_pairs([p1, p2])
    assert found == [(0, 1, float(abs(p1.area())), float(abs(p2.area())))]
    # the fast path never decides such a pair itself
    codes, _ = classify_candidates([p1, p2])
    assert codes.tolist() == [AMBIGUOUS]


@pytest.mark.parametrize("seed", [1189, 1139])
def test_nearly_identical_polygons_can_have_zero_reference_area(seed):
    """The reference can return an EMPTY intersection for nearly identical footprints."""
    _, _, _, p1, p2 = _near_identical(seed)
    a12 = abs(intersect_polygons(p1, p2).area())
    a21 = abs(intersect_polygons(p2, p1).area())
    assert a12 == 0.0 or a21 == 0.0
    assert classify_candidates([p1, p2])[0].tolist() == [AMBIGUOUS]
    found = overlapping_image_pairs([p1, p2], exact=False)
    if a12 == 0.0 and a21 == 0.0:
        assert found == []
    else:
        assert [f[:2] for f in found] == [(0, 1)] and (found[0][2] == 0.0 or found[0][3] == 0.0)


def test_touching_polygons_match_the_reference():
    # (1) exactly shared vertices: a row of quads on one ra/dec grid
    ra = np.array([10.0, 10.01, 10.02, 10.03])
    dec = np.array([20.0, 20.01])
    quads = [SphericalPolygon.from_radec([ra[k], ra[k + 1], ra[k + 1], ra[k], ra[k]],
                                         [dec[0], dec[0], dec[1], dec[1], dec[0]]) for k in range(3)]
    corner = SphericalPolygon.from_radec([10.01, 10.02, 10.02, 10.01, 10.01], [20.01, 20.01, 20.02, 20.02, 20.01])
    # (2) adjacent detector tiles of one TAN projection: edges equal up to round-off
    shape = (40, 50)
    base = tan_wcs(shape, crval=(359.999, -30.0), scale_arcsec=1.0, rotation_deg=20.0)
    tiles = []
    for dx, dy in ((0, 0), (50, 0), (0, 40), (50, 40)):
        w = base.deepcopy()
        w.wcs.crpix = [base.wcs.crpix[0] - dx, base.wcs.crpix[1] - dy]
        tiles.append(footprint_polygon(shape, w)[0])
    polygons = quads + [corner] + tiles
    expected = []
    for i in range(len(polygons)):
        for j in range(i + 1, len(polygons)):
            a_ij = float(abs(intersect_polygons(polygons[i], polygons[j]).area()))
            a_ji = float(abs(intersect_polygons(polygons[j], polygons[i]).area()))
            if a_ij > 0 or a_ji > 0:
                expected.append((i, j, a_ij, a_ji))
    cands = set(map(tuple, candidate_pairs(polygons).tolist()))
    assert {(0, 1), (1, 2), (1, 3), (4, 5), (4, 7), (5, 6)} <= cands  # touching pairs are candidates
    codes, _ = classify_candidates(polygons)
    assert OVERLAP not in codes.tolist()  # nothing here overlaps with positive width
    for exact in (True, False):
        found = overlapping_image_pairs(polygons, exact=exact)
        assert [f[:2] for f in found] == [e[:2] for e in expected]
        for f, e in zip(found, expected):
            assert (f[2] > 0, f[3] > 0) == (e[2] > 0, e[3] > 0)
            # any "overlap" of touching outlines is round-off sized
            assert max(f[2:]) < 1e-12


def test_clear_cases_never_need_the_reference():
    _, polygons, expected = prepared("ra_wrap")
    cands = candidate_pairs(polygons)
    codes, areas = classify_candidates(polygons, cands)
    by_pair = {p[:2]: p for p in expected}
    for (i, j), code, area in zip(cands.tolist(), codes, areas):
        if code == DISJOINT:
            assert (i, j) not in by_pair
        elif code == OVERLAP:
            e = by_pair[(i, j)]
            assert e[2] > 0 and e[3] > 0
            assert area == pytest.approx(e[2], rel=1e-6, abs=4e-15)


# ---------------------------------------------------------------------------
# groups


GROUPS = ["g1", "g1", "g2", "g3", "g2", "g1"]
IMAGE_PAIRS = [
    (0, 1, 5.0, 5.0),  # same group g1: dropped
    (0, 2, 1.0, 1.5),
    (1, 4, 2.0, 2.5),
    (2, 3, 3.0, 3.5),  # g2-g3
    (3, 5, 4.0, 4.5),  # g3 (image 3) - g1 (image 5): stored as (g1, g3) with members (5, 3)
    (2, 4, 6.0, 6.0),  # same group g2: dropped
    (0, 3, 0.5, 0.25),
]


def test_group_pairs_aggregates_and_orders():
    out = group_pairs(IMAGE_PAIRS, GROUPS)
    assert [(r["group_a"], r["group_b"]) for r in out] == [("g1", "g2"), ("g1", "g3"), ("g2", "g3")]
    g12, g13, g23 = out
    assert g12["members"] == [(0, 2), (1, 4)]
    assert g12["area_sr"] == 3.0 and g12["area_ba_sr"] == 4.0
    assert g13["members"] == [(0, 3), (5, 3)]
    assert g13["area_sr"] == 0.5 + 4.5  # a∩b direction: image 5 (g1) ∩ image 3 (g3) is area_ji of (3, 5)
    assert g13["area_ba_sr"] == 0.25 + 4.0
    assert g23["members"] == [(2, 3)] and g23["area_sr"] == 3.0
    # deterministic: input order does not matter
    rng = np.random.default_rng(0)
    for _ in range(5):
        shuffled = [IMAGE_PAIRS[k] for k in rng.permutation(len(IMAGE_PAIRS))]
        assert group_pairs(shuffled, GROUPS) == out


def test_group_order_is_first_appearance():
    groups = ["z", "a", "z", "m"]
    out = group_pairs([(2, 3, 1.0, 1.0), (1, 3, 1.0, 1.0), (0, 1, 1.0, 1.0)], groups)
    assert [(r["group_a"], r["group_b"]) for r in out] == [("z", "a"), ("z", "m"), ("a", "m")]
    assert out[0]["members"] == [(0, 1)]


def test_end_to_end_groups_from_footprints():
    """Detectors of one exposure form a group; same-group overlaps never show up."""
    _, polygons, expected = prepared("ra_wrap")
    groups = [f"exp{k // 3}" for k in range(len(polygons))]
    found = overlapping_image_pairs(polygons, exact=False)
    out = group_pairs(found, groups)
    for rec in out:
        assert rec["group_a"] != rec["group_b"]
        for i, j in rec["members"]:
            assert groups[i] == rec["group_a"] and groups[j] == rec["group_b"]
    n_cross = sum(groups[i] != groups[j] for i, j, *_ in expected)
    assert sum(len(r["members"]) for r in out) == n_cross


def test_deferred_ambiguous_pairs_are_kept_with_nan_area():
    """Touching footprints are too close to call cheaply: listed, area NaN, for the pair stage."""
    from helpers.images import tan_wcs
    from skymatchflow.geometry.footprint import footprint_polygon

    shape = (100, 100)
    a = footprint_polygon(shape, tan_wcs(shape, crval=(10.0, 0.0), scale_arcsec=1.0))[0]
    b = footprint_polygon(shape, tan_wcs(shape, crval=(10.0 + 100 / 3600, 0.0), scale_arcsec=1.0))[0]
    far = footprint_polygon(shape, tan_wcs(shape, crval=(20.0, 0.0), scale_arcsec=1.0))[0]
    found = overlapping_image_pairs([a, b, far], exact=False, defer_ambiguous=True)
    exact = overlapping_image_pairs([a, b, far], exact=True)
    assert {(i, j) for i, j, *_ in exact} <= {(i, j) for i, j, *_ in found}
    assert all(j != 2 for _, j, *_ in found)
