"""Overlap discovery, stage 1: bounding caps (compared directly, or through a KD-tree for many) give every pair that may overlap.

Provably conservative: a pair outside the candidates cannot have a non-zero
reference intersection (see :func:`bounding_caps`). Unit vectors make RA
wrap-around and the poles need no special case.
"""

import math

import numpy as np

from skymatchflow.geometry._tangent_plane import angle, gnomonic, point_in_polygon, polygon_parts, tangent_basis

#: added to every cap radius (rad, ~2 mas): covers float64 round-off in the
#: caps themselves and in the reference's crossing / containment tests.
CAP_MARGIN = 1e-8
#: caps wider than this (rad) are not trusted to bound the polygon (a cap must
#: be well inside a hemisphere to be convex); such polygons get radius pi.
MAX_CAP_RADIUS = math.radians(80.0)


def bounding_caps(polygons):
    """Bounding cap (centre unit vector, angular radius in rad) of each polygon.

    Radius ``nan``: the polygon has no area (no parts) -- the reference's
    ``SphericalPolygon.intersection`` returns the empty polygon for it, so it
    overlaps nothing.  Radius ``pi``: no useful cap (the cap would not be
    safe); the polygon is a candidate partner of every other polygon.

    Why the cap ``C(c, r)``, r = max angle from c to the vertices of all parts,
    contains the polygon (when r < 80 deg and the check below passes):

    * every edge is the minor great-circle arc between two vertices; a cap of
      radius < 90 deg is spherically convex (along a great circle ``c·p(t)`` is
      a sinusoid whose minimum inside an arc shorter than 180 deg can only lie
      below the end values if one end value is negative), so the whole
      boundary lies in the cap -- no "arc bulge" term is needed below 90 deg;
    * the complement of the cap is connected and misses the boundary, so it is
      either entirely outside the part or entirely inside it.  spherical_geometry
      defines the part as the side containing its ``inside`` point, so the part
      lies in the cap iff that point is inside the boundary curve as seen in
      the gnomonic projection about c (checked with a margin; otherwise the
      radius falls back to pi).

    Then, if two caps are disjoint (with ``CAP_MARGIN``), no vertex of one part
    is inside the other and no edges cross, so the reference's
    ``intersects_poly`` is False and its intersection is empty (area 0.0).
    """
    n = len(polygons)
    centres = np.zeros((n, 3))
    radii = np.full(n, np.nan)
    for k, polygon in enumerate(polygons):
        parts = polygon_parts(polygon)
        if not parts:
            continue
        pts = np.vstack([p for p, _ in parts])
        s = pts.sum(axis=0)
        norm = np.linalg.norm(s)
        if not np.isfinite(norm) or norm < 1e-12:
            centres[k] = (0.0, 0.0, 1.0)
            radii[k] = math.pi
            continue
        c = s / norm
        centres[k] = c
        r = float(np.max(angle(c, pts)))
        if not r < MAX_CAP_RADIUS:
            radii[k] = math.pi
            continue
        e1, e2 = tangent_basis(c)
        ok = True
        for part_pts, inside in parts:
            if inside is None or not np.all(np.isfinite(inside)) or float(inside @ c) <= math.cos(MAX_CAP_RADIUS):
                ok = False
                break
            xy, _ = gnomonic(part_pts, c, e1, e2)
            pin, _ = gnomonic(inside[None, :], c, e1, e2)
            is_in, dist = point_in_polygon(pin[0], xy)
            if not is_in or dist < 1e-9 * max(1.0, float(np.max(np.abs(xy)))):
                ok = False
                break
        radii[k] = r + CAP_MARGIN if ok else math.pi
    return centres, radii


def _chord(theta):
    theta = np.minimum(np.asarray(theta, dtype=float), math.pi)
    return 2.0 * np.sin(theta / 2.0) * (1.0 + 1e-12) + 1e-15


#: up to this many footprints with an area, every pair's caps are compared
#: directly (125,000 angles at 500: a few ms) instead of through scipy's
#: KD-tree, whose import (``scipy.spatial``) costs 0.2-0.3 s of CPU in the
#: overlap graph's job, a process of its own on the critical path (issue 29).
#: Both ways keep exactly the pairs with ``angle(c_i, c_j) <= r_i + r_j``.
DIRECT_MAX = 500


def candidate_pairs(polygons, caps=None) -> np.ndarray:
    """Pairs (i, j), i < j, whose bounding caps intersect: shape (k, 2), lexicographically sorted.

    A superset of the pairs with a non-zero reference intersection (see
    :func:`bounding_caps`).  Polygons with no area never appear.  Unit vectors
    make RA wrap-around and the poles need no special case.  Up to
    ``DIRECT_MAX`` polygons every pair is tested; above, caps are bucketed
    by radius (factors of 2) and each pair of buckets is searched with a
    KD-tree at the chord of the two buckets' maximum radii, then filtered by
    ``angle(c_i, c_j) <= r_i + r_j``, so a few large polygons do not inflate
    the search radius for all the small ones.
    """
    centres, radii = caps if caps is not None else bounding_caps(polygons)
    valid = np.nonzero(np.isfinite(radii))[0]
    if valid.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    if valid.size <= DIRECT_MAX:
        first, second = np.triu_indices(valid.size, 1)
        pairs = np.column_stack((valid[first], valid[second])).astype(np.int64)
    else:
        pairs = _tree_pairs(centres, radii, valid)
        if pairs is None:
            return np.empty((0, 2), dtype=np.int64)
    return _caps_meet(pairs, centres, radii)


def candidate_pairs_with(caps, involved) -> np.ndarray:
    """The pairs of candidate_pairs(caps=caps) that involve an index of ``involved``, found without a tree.

    Each of ``involved`` is compared with every footprint (few: those added
    to a stored graph), by the same test on the same values as
    candidate_pairs, so the answer is that of candidate_pairs restricted to
    these indices; and no KD-tree, whose import is most of the cost here.
    """
    centres, radii = caps
    valid = np.flatnonzero(np.isfinite(radii))
    involved = np.intersect1d(np.asarray(involved, dtype=np.int64), valid)
    if valid.size < 2 or not involved.size:
        return np.empty((0, 2), dtype=np.int64)
    first = np.repeat(involved, valid.size)
    second = np.tile(valid, involved.size)
    pairs = np.column_stack((np.minimum(first, second), np.maximum(first, second)))
    return _caps_meet(pairs[pairs[:, 0] != pairs[:, 1]], centres, radii)


def _caps_meet(pairs, centres, radii):
    """Those of ``pairs`` (i, j), i < j, whose caps meet, ``angle(c_i, c_j) <= r_i + r_j``, sorted and unique:
    the one test of both candidate searches, so that they keep exactly the same pairs."""
    keep = angle(centres[pairs[:, 0]], centres[pairs[:, 1]]) <= radii[pairs[:, 0]] + radii[pairs[:, 1]]
    return np.unique(pairs[keep], axis=0)


def _tree_pairs(centres, radii, valid):
    """Pairs (i, j), i < j, of ``valid`` whose centres a KD-tree finds within their buckets' reach (a superset), or None."""
    from scipy.spatial import cKDTree  # here: small graphs and the pair stage need no tree

    r = radii[valid]
    rmin = max(float(r.min()), 1e-12)
    bucket = np.floor(np.log2(np.maximum(r, rmin) / rmin)).astype(np.int64)
    groups = []
    for b in np.unique(bucket):
        members = valid[bucket == b]
        groups.append((members, float(radii[members].max()), cKDTree(centres[members])))

    found = []
    for ia, (ma, ra, ta) in enumerate(groups):
        for mb, rb, tb in groups[ia:]:
            dmax = float(_chord(ra + rb))
            if mb is ma:
                local = ta.query_pairs(dmax, output_type="ndarray")
                if len(local):
                    found.append(np.column_stack((ma[local[:, 0]], ma[local[:, 1]])))
            else:
                sdm = ta.sparse_distance_matrix(tb, dmax, output_type="ndarray")
                if len(sdm):
                    found.append(np.column_stack((ma[sdm["i"]], mb[sdm["j"]])))
    if not found:
        return None
    return np.sort(np.vstack(found).astype(np.int64), axis=1)
