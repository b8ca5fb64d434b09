"""The pair stage's intersections are the reference's rings, on many pair geometries.

Oracle: ``intersection.intersect_polygons`` (stcal's ``SkyImage.intersection``)
in both directions, a ∩ b for a's pixels and b ∩ a for b's. spherical_geometry
starts and orients its traced ring by set iteration order (it differs from one
call to the next), so rings are compared as cyclic sequences in either
direction, bit for bit; gwcs's scan fill depends on neither (tested below).
"""

import numpy as np
import pytest

from helpers.images import tan_wcs
from skymatchflow.geometry import exactintersect
from skymatchflow.geometry.exactintersect import PairGeometry
from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.geometry.intersection import intersect_polygons
from skymatchflow.geometry.scanfill import scan_fill


def rings(polygon):
    return [np.asarray(part.points) for part in polygon]


def same_ring(u, v):
    """Bit-identical closed rings, up to the start point and the direction."""
    u, v = u[:-1], v[:-1]
    if u.shape != v.shape:
        return False
    return any(np.array_equal(u, np.roll(w, s, axis=0)) for w in (v, v[::-1]) for s in range(len(v)))


def same_polygon(p, q):
    a, b = rings(p), rings(q)
    return len(a) == len(b) and all(any(same_ring(u, v) for v in b) for u in a)


def geometries():
    """(name, a, b): dithers, rotations, slivers, containment, near-identical, poles, RA wrap, sampled edges."""
    rng = np.random.default_rng(17)
    shape = (256, 256)
    out = []
    centres = [("equator", 20.0, 0.0), ("ra-wrap", 359.99, 0.0), ("north-pole", 45.0, 89.99), ("south", 200.0, -60.0)]
    for place, ra, dec in centres:
        for k in range(6):
            step = 256 * 0.5 / 3600.0
            dra = rng.uniform(-0.9, 0.9) * step / max(np.cos(np.radians(dec)), 0.02)
            ddec = rng.uniform(-0.9, 0.9) * step
            stepsize = None if k % 2 else 64
            wa = tan_wcs(shape, crval=(ra, dec), scale_arcsec=0.5, rotation_deg=rng.uniform(-180, 180))
            wb = tan_wcs(shape, crval=((ra + dra) % 360.0, dec + ddec), scale_arcsec=0.5,
                         rotation_deg=rng.uniform(-180, 180))
            out.append((f"{place}-{k}", footprint_polygon(shape, wa, stepsize)[0],
                        footprint_polygon(shape, wb, stepsize)[0]))
    base = tan_wcs(shape, crval=(10.0, 5.0), scale_arcsec=0.5)
    a = footprint_polygon(shape, base)[0]
    width = 256 * 0.5 / 3600.0
    for name, dx, rot in (("sliver", width * 0.999, 0.0), ("touching", width, 0.0), ("tiny-shift", 1e-9, 0.0),
                          ("identical", 0.0, 0.0), ("rotated-same-centre", 0.0, 45.0), ("half", width / 2, 0.0), ("disjoint", width * 1.5, 0.0)):
        wcs = tan_wcs(shape, crval=(10.0 + dx, 5.0), scale_arcsec=0.5, rotation_deg=rot)
        out.append((name, a, footprint_polygon(shape, wcs)[0]))
    small = tan_wcs((40, 40), crval=(10.0, 5.0), scale_arcsec=0.5, rotation_deg=30.0)
    out.append(("contained", a, footprint_polygon((40, 40), small)[0]))
    return out


GEOMETRIES = geometries()


@pytest.mark.parametrize("name,a,b", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_each_side_gets_the_reference_ring(name, a, b):
    geometry = PairGeometry()
    ours_ab = geometry.intersection(a, b)
    ours_ba = geometry.intersection(b, a)
    assert same_polygon(ours_ab, intersect_polygons(a, b)), name
    assert same_polygon(ours_ba, intersect_polygons(b, a)), name
    area, pieces = geometry.overlap_pieces(a, [b])
    assert (area > 0) == (abs(intersect_polygons(a, b).area()) > 0)
    assert len(pieces) == len(rings(ours_ab)) or area == 0.0


def test_the_geometries_cover_overlapping_and_disjoint_pairs():
    kinds = {abs(intersect_polygons(a, b).area()) > 0 for _, a, b in GEOMETRIES}
    assert kinds == {True, False}


def test_nearly_identical_polygons_fall_back_to_self_in_each_direction(monkeypatch):
    """spherical_geometry's MalformedPolygonError: each side gets a copy of its own polygon, as stcal."""
    from spherical_geometry.polygon import MalformedPolygonError, SphericalPolygon

    _, a, b = GEOMETRIES[0]

    def malformed(self, other):
        raise MalformedPolygonError("nearly identical")

    monkeypatch.setattr(SphericalPolygon, "intersection", malformed)
    geometry = PairGeometry()
    assert same_polygon(geometry.intersection(a, b), a)
    assert same_polygon(geometry.intersection(b, a), b)


def test_areas_are_computed_once_per_polygon_and_equal_the_library(monkeypatch):
    """Footprints in many pairs, and the intersection both sides share, pay one Girard sum each."""
    from spherical_geometry.polygon import SingleSphericalPolygon

    def footprints():  # new objects: a polygon keeps its area once asked
        shape = (256, 256)
        return [footprint_polygon(shape, tan_wcs(shape, crval=(10.0 + d, 5.0), scale_arcsec=0.5))[0] for d in (0, 0.02)]

    a, b = footprints()
    expected = (a.area(), b.area(), intersect_polygons(a, b).area())
    a, b = footprints()
    library_area = SingleSphericalPolygon.area
    calls = []
    monkeypatch.setattr(SingleSphericalPolygon, "area", lambda self: calls.append(1) or library_area(self))
    for _ in range(3):  # three pairs of a batch with the same two footprints
        geometry = PairGeometry()
        area_a, _ = geometry.overlap_pieces(a, [b])
        area_b, _ = geometry.overlap_pieces(b, [a])
        assert area_a == area_b > 0
        assert area_a == pytest.approx(abs(expected[2]), rel=0, abs=1e-13)  # another ring start: round-off
    assert (a.area(), b.area()) == expected[:2]
    assert len(calls) == 2 + 3  # each footprint once, each pair's shared intersection once


def test_far_nodes_get_the_library_answer():
    """The float64 pre-test answers exactly as spherical_geometry's quad-double test, near and far."""
    rng = np.random.default_rng(3)
    library = exactintersect._library_intersects_point
    for length in (1e-4, 1e-3, 0.1, 2.0):
        a = np.array([1.0, 0.0, 0.0])
        b = np.array([np.cos(length), np.sin(length), 0.0])
        t = rng.uniform(-0.2, 1.2, 400) * length
        h = np.concatenate([10.0 ** rng.uniform(-12, -3, 300), np.zeros(100)]) * rng.choice([-1, 1], 400)
        c = np.column_stack((np.cos(t) * np.cos(h), np.sin(t) * np.cos(h), np.sin(h)))
        ours = exactintersect.intersects_point(a, b, c)
        theirs = library(a, b, c)
        assert np.array_equal(ours, theirs)
    assert exactintersect.great_circle_arc.intersects_point is library  # the patch is scoped


def test_the_fill_does_not_depend_on_start_or_direction_of_a_ring():
    rng = np.random.default_rng(5)
    for _ in range(50):
        x = rng.uniform(-20, 120, 6)
        y = rng.uniform(-20, 120, 6)
        order = np.argsort(np.arctan2(y - y.mean(), x - x.mean()))
        x, y = x[order], y[order]
        ring = lambda xs, ys: (np.append(xs, xs[0]), np.append(ys, ys[0]))  # noqa: E731
        expected = scan_fill(*ring(x, y), (100, 100))
        shift = int(rng.integers(1, 6))
        assert np.array_equal(scan_fill(*ring(np.roll(x, shift), np.roll(y, shift)), (100, 100)), expected)
