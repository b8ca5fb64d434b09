"""spherical_geometry's polygon intersection, bit for bit, without most of its slowest test.

Intersecting two footprints, spherical_geometry's graph asks, for every
edge, which nodes lie on it (``great_circle_arc.intersects_point``: is
``|d(A,C) + d(C,B) - d(A,B)|`` below ~1e-10 rad, in quad-double
arithmetic, ~0.2 ms per node). That is 80 % of an intersection's time, and
almost every node is far from almost every edge. :class:`PairGeometry`
answers those far nodes in float64 (False: the excess exceeds
``FAR_EXCESS``, 100 times the library's threshold, while float64 computes
it to ~1e-15) and asks the library for the rest, so the graph sees the same
booleans and builds the same polygon, bit for bit (the parity tests compare).
"""

import contextlib

import numpy as np
from spherical_geometry import great_circle_arc

from skymatchflow.geometry import intersection
from skymatchflow.geometry._ringorder import canonical_rings

#: nodes whose float64 excess exceeds this (rad) are surely off the arc
FAR_EXCESS = 1e-8

_library_intersects_point = great_circle_arc.intersects_point


def _chord_angle(a, c):
    """Angles (rad) from unit vector ``a`` to the rows of ``c``, from chords: accurate below ~3 rad."""
    d = c - a
    return 2.0 * np.arcsin(np.minimum(1.0, 0.5 * np.sqrt(np.einsum("ij,ij->i", d, d))))


def intersects_point(A, B, C):
    """``great_circle_arc.intersects_point`` with the far nodes decided in float64."""
    A, B, C = np.asarray(A, dtype=float), np.asarray(B, dtype=float), np.asarray(C, dtype=float)
    if A.shape != (3,) or B.shape != (3,) or C.ndim != 2 or C.shape[1] != 3:
        return _library_intersects_point(A, B, C)
    a, b = A / np.sqrt(A @ A), B / np.sqrt(B @ B)
    c = C / np.sqrt(np.einsum("ij,ij->i", C, C))[:, None]
    ab = _chord_angle(a, b[None, :])[0]
    if not ab < 1.0:  # long arcs: leave every node to the library
        return _library_intersects_point(A, B, C)
    excess = _chord_angle(a, c) + _chord_angle(b, c) - ab
    # a chord angle near pi loses precision, but such a node is ~pi - 1 rad off the arc
    near = ~(excess > FAR_EXCESS)  # NaN stays with the library
    # the arc's own end nodes: the graph skips them whatever the answer (no two
    # nodes share a position), so the library need not be asked
    ends = np.all(C == A, axis=1) | np.all(C == B, axis=1)
    out = ends.copy()
    near &= ~ends
    if near.any():
        out[near] = _library_intersects_point(A, B, C[near])
    return out


@contextlib.contextmanager
def _far_nodes_in_float64():
    great_circle_arc.intersects_point = intersects_point
    try:
        yield
    finally:
        great_circle_arc.intersects_point = _library_intersects_point


#: spherical_geometry's graph merges nodes closer than this in every coordinate
#: (``Graph._add_node``), keeping the one added first: the only place where
#: ``a ∩ b`` and ``b ∩ a`` can build different polygons
NODE_MERGE = 2.0 ** -32


def _merge_free(polygon_a, polygon_b):
    """True when no vertex of one polygon would be merged with a vertex of the other."""
    pa = np.vstack([np.asarray(p.points, dtype=float) for p in polygon_a] or [np.empty((0, 3))])
    pb = np.vstack([np.asarray(p.points, dtype=float) for p in polygon_b] or [np.empty((0, 3))])
    if len(pa) == 0 or len(pb) == 0:
        return True
    close = np.all(np.abs(pa[:, None, :] - pb[None, :, :]) < 2 * NODE_MERGE, axis=2)
    return not close.any()


class PairGeometry:
    """The intersections of a pair's member footprints, each computed once for both sides.

    The reference computes ``a ∩ b`` for a's pixels and ``b ∩ a`` for b's.
    spherical_geometry builds both from the same graph: its nodes are
    deduplicated by position and its edges processed in an order given by
    the nodes' coordinates, so both are the same ring of the same vertices,
    up to where the trace starts and its direction -- which follow set
    iteration order in the reference, from one call to the next, and are
    fixed here (geometry/_ringorder.py); the scan fill does not depend on
    them. Two exceptions keep their own direction here: vertices of a and b close enough to be merged (the survivor
    depends on the order), and nearly identical polygons, where the
    reference falls back to a copy of SELF's polygon.
    """

    def __init__(self):
        self._shared = {}

    @staticmethod
    def _area_once(polygon):
        """``polygon`` with its ``area()`` computed once (then the same float each call).

        spherical_geometry asks both footprints' areas at every intersection
        (a footprint is in about five pairs of a batch) and both sides ask the
        shared intersection's: a Girard sum in quad precision each time.
        """
        if "area" not in vars(polygon):
            area = polygon.area()
            polygon.area = lambda: area
        return polygon

    def intersection(self, polygon_a, polygon_b):
        """The reference's ``polygon_a ∩ polygon_b`` (as ``intersection.intersect_polygons``)."""
        from spherical_geometry.polygon import MalformedPolygonError

        key = frozenset((id(polygon_a), id(polygon_b)))
        if key in self._shared:
            return self._shared[key][0]
        try:
            with _far_nodes_in_float64(), canonical_rings():
                result = self._area_once(self._area_once(polygon_a).intersection(self._area_once(polygon_b)))
        except MalformedPolygonError:
            return polygon_a.copy()
        if _merge_free(polygon_a, polygon_b):
            self._shared[key] = (result, polygon_a, polygon_b)  # the polygons stay alive: ids stay theirs
        return result

    def overlap_pieces(self, polygon, others):
        """``intersection.overlap_pieces(polygon, others)``: (total area, [(ra, dec), ...])."""
        return intersection.overlap_pieces(polygon, others, self.intersection)
