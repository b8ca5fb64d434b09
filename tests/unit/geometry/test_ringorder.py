"""Intersections give the same polygon, bit for bit, on every call (geometry/_ringorder.py).

spherical_geometry starts each traced ring at an edge popped off a set of
objects hashed by memory address. The survey's srv_00835 ∩ srv_00836 sliver
is a polygon from some starts and "on a great circle" (empty) from another,
so the same pair was "no overlap" in some runs and a one-pixel overlap in
others.
"""

import numpy as np
from spherical_geometry import graph
from spherical_geometry.polygon import SingleSphericalPolygon

from helpers.images import tan_wcs
from helpers.survey_sliver import SHAPE, sliver_wcs
from skymatchflow.geometry import _ringorder as ringorder
from skymatchflow.geometry._ringorder import canonical_ring
from skymatchflow.geometry.exactintersect import PairGeometry
from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.geometry.intersection import intersect_polygons
from skymatchflow.geometry.scanfill import scan_fill


def sliver_pair():
    return [footprint_polygon(SHAPE, sliver_wcs(name))[0] for name in ("srv_00835_cal", "srv_00836_cal")]


def others():
    """Overlapping footprints, intersected between the sliver's calls (other allocations, other set orders)."""
    shape = (256, 256)
    return [footprint_polygon(shape, tan_wcs(shape, crval=(10.0 + d, 5.0 + d / 3), scale_arcsec=0.5,
                                             rotation_deg=20 * d))[0] for d in (0.0, 0.01, 0.02)]


def as_bytes(polygon):
    return [(np.asarray(p.points).tobytes(), np.asarray(p.inside).tobytes()) for p in polygon.polygons]


def sliver_ring():
    """The sliver's three vertices, as spherical_geometry's graph finds them."""
    a, b = sliver_pair()
    ring = intersect_polygons(a, b).polygons
    assert len(ring) == 1
    return np.asarray(ring[0].points)[:-1]


def test_the_sliver_is_one_polygon_on_every_call_in_both_directions_and_both_ways():
    a, b = sliver_pair()
    filler = others()
    results = {"ab": set(), "ba": set(), "pair_ab": set(), "pair_ba": set()}
    for k in range(40):
        if k % 2:  # other intersections in between, as other pairs of a batch
            intersect_polygons(filler[k % 3], filler[(k + 1) % 3])
        results["ab"].add(repr(as_bytes(intersect_polygons(a, b))))
        results["ba"].add(repr(as_bytes(intersect_polygons(b, a))))
        geometry = PairGeometry()
        results["pair_ab"].add(repr(as_bytes(geometry.intersection(a, b))))
        results["pair_ba"].add(repr(as_bytes(geometry.intersection(b, a))))
    assert all(len(found) == 1 for found in results.values()), {k: len(v) for k, v in results.items()}
    assert abs(intersect_polygons(a, b).area()) > 0 and abs(intersect_polygons(b, a).area()) > 0
    assert graph.Graph._trace_polygons is ringorder._library_trace_polygons  # the patch is scoped


def every_trace(vertices):
    """The closed rings the library may trace of ``vertices`` (a triangle): from each start, both ways."""
    for start in range(3):
        for direction in (1, -1):
            yield SingleSphericalPolygon(vertices[[(start + direction * k) % 3 for k in range(3)] + [start]])


def test_the_sliver_is_degenerate_from_one_start_and_a_polygon_from_the_others():
    """The cause: the library's verdict follows the start vertex (counted twice in the closed ring)."""
    verdicts = {traced._degenerate for traced in every_trace(sliver_ring())}
    assert verdicts == {True, False}


def test_every_start_and_direction_of_a_ring_gives_one_polygon():
    built = set()
    for traced in every_trace(sliver_ring()):
        ring = canonical_ring(traced)
        assert not ring._degenerate
        built.add((np.asarray(ring.points).tobytes(), np.asarray(ring.inside).tobytes(), ring.area()))
    assert len(built) == 1


def test_a_ring_on_one_great_circle_stays_degenerate():
    t = np.radians([0.0, 1.0, 2.0, 3.0])
    vertices = np.column_stack((np.cos(t), np.sin(t), np.zeros(4)))
    ring = canonical_ring(SingleSphericalPolygon(np.vstack((vertices, vertices[:1]))))
    assert ring._degenerate


def test_overlapping_footprints_give_the_same_bytes_on_every_call():
    """Not only slivers: the area's last bits and the inside point followed the start too."""
    a, b, c = others()
    seen = {(x, y): set() for x, y in ((0, 1), (1, 2), (0, 2))}
    polygons = (a, b, c)
    for _ in range(15):
        for (x, y), found in seen.items():
            result = intersect_polygons(polygons[x], polygons[y])
            found.add((repr(as_bytes(result)), result.area()))
    assert all(len(found) == 1 for found in seen.values())
    assert all(next(iter(found))[1] > 0 for found in seen.values())


def test_the_pixels_are_those_of_every_library_trace():
    """The ring keeps its traced direction: a reversed ring's strides change to_radec's last bits, then pixels."""
    rng = np.random.default_rng(11)
    shape = (120, 150)
    for _ in range(12):
        wcs = [tan_wcs(shape, crval=(150.1 + rng.uniform(-40, 40) / 3600, 2.2 + rng.uniform(-40, 40) / 3600),
                       scale_arcsec=0.5, rotation_deg=rng.choice([0.0, 1.5, rng.uniform(-180, 180)])) for _ in range(2)]
        a, b = (footprint_polygon(shape, w)[0] for w in wcs)

        def pixels(polygon, image_wcs=wcs[0]):
            fill = np.zeros(shape, bool)
            for ra, dec in polygon.to_radec():
                x, y = image_wcs.all_world2pix(ra, dec, 0)
                scan_fill(x, y, shape, out=fill)
            return fill.tobytes()

        library = {pixels(a.intersection(b)) for _ in range(6)}
        assert library == {pixels(intersect_polygons(a, b))}
