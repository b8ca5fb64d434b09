"""spherical_geometry's traced rings, independent of the order it happens to meet its edges in.

Why: spherical_geometry builds an intersection's rings by popping a start
edge off a set of its graph's Edge objects, hashed by id (memory address),
so the start vertex and direction of each ring, and the order of the rings,
change from one call to the next, whatever PYTHONHASHSEED is. The polygon
made of a ring depends on its start, which it counts twice (the closing
point): the last bits of its area, its inside point and, for a sliver, its
verdict "all points on one great circle" (then the intersection is empty).
On the survey strip of bench_workflow.py, srv_00835 ∩ srv_00836 is a
triangle of 5.6e-14 sr that is a polygon from two of its three starts and
"degenerate" from the third: the pair's record said "no overlap" in about
one run of three.

Here every traced ring is rebuilt from a fixed start, its lexicographically
smallest vertex, in the direction it was traced (the graph's edges run as
the clockwise footprints do; a ring reversed here would come out of the
polygon's constructor as a reversed view, and numpy's arctan2 gives other
last bits on such strides, so ``to_radec`` and then the pixels would differ
from the reference's), and the rings are sorted, so that the same two
polygons always give the same bytes. A ring is dropped as degenerate only
if it is degenerate from every start: on-a-great-circle is a property of
the ring, and the reference, which may start at any of its vertices, finds
the polygon from the first start that makes one. Every result is thus one
the reference's own intersection can return.
"""

import contextlib

import numpy as np
from spherical_geometry import graph
from spherical_geometry.polygon import SingleSphericalPolygon

_library_trace_polygons = graph.Graph._trace_polygons


def _ring_from(vertices, start):
    """The closed ring of ``vertices`` (not closed) from ``start``, in their order (a new, contiguous array)."""
    n = len(vertices)
    return vertices[[(start + k) % n for k in range(n)] + [start]]


def canonical_ring(polygon):
    """``polygon`` (a traced SingleSphericalPolygon) rebuilt from its fixed start; see the module's docstring."""
    vertices = np.asarray(polygon.points)[:-1]
    if len(vertices) < 3:
        return polygon
    first = None
    for start in sorted(range(len(vertices)), key=lambda i: vertices[i].tolist()):
        ring = SingleSphericalPolygon(_ring_from(vertices, start))
        if not ring._degenerate:
            return ring
        if first is None:
            first = ring
    return first


def _ring_key(polygon):
    return np.asarray(polygon.points).tolist()


def _canonical_trace_polygons(self):
    """``Graph._trace_polygons``, each ring from its fixed start, the rings in a fixed order."""
    return sorted((canonical_ring(ring) for ring in _library_trace_polygons(self)), key=_ring_key)


@contextlib.contextmanager
def canonical_rings():
    """Within: spherical_geometry's intersections trace their rings as :func:`canonical_ring` says."""
    before = graph.Graph._trace_polygons
    graph.Graph._trace_polygons = _canonical_trace_polygons
    try:
        yield
    finally:
        graph.Graph._trace_polygons = before
