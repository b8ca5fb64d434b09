"""Overlap graph: which images / sky groups overlap, as the reference decides it.

The reference (stcal ``_overlap_matrix``) visits all N(N-1)/2 element pairs
and, per direction, computes ``|area(self ∩ other)|`` with spherical_geometry
(``SkyImage.intersection`` + ``SkyImage.calc_sky``); a pair with a zero area in
either direction is skipped.  Here the same decision is reached without the
N^2 loop, in three stages:

1. :func:`candidate_pairs` -- bounding caps + a KD-tree on unit vectors.
   Provably conservative: a pair outside the candidates cannot have a non-zero
   reference intersection (see :func:`bounding_caps`).
2. :func:`classify_candidates` -- a cheap float64 test per candidate in a
   gnomonic projection (great circles are straight lines there) with safety
   margins: ``DISJOINT`` (the reference's ``intersects_poly`` is False for every
   part, so its intersection is the empty polygon, area exactly 0.0),
   ``OVERLAP`` (the polygons share a disk much wider than every tolerance in
   spherical_geometry, so the reference area is > 0 in both directions) or
   ``AMBIGUOUS`` (touching, slivers, multi-part or very large polygons).
3. :func:`overlapping_image_pairs` -- the reference intersection
   (:func:`intersect_polygons`, i.e. ``SkyImage.intersection``) for every
   candidate that is not ``DISJOINT`` (``exact=True``, bit-identical areas), or
   only for the ``AMBIGUOUS`` ones (``exact=False``: much faster; areas of
   ``OVERLAP`` pairs are then float64 estimates, the zero/non-zero decision is
   still the reference's).

Why stage 3 has a fast mode: one reference intersection of two overlapping
4-vertex polygons costs ~30 ms (spherical_geometry's ``intersects_point`` runs
in quad-double arithmetic, ~0.2 ms per node and arc), so exact areas for the
~30k overlapping pairs of 10,000 dithered footprints take tens of minutes,
while the zero/non-zero decision alone takes seconds.
"""

from __future__ import annotations

import math

import numpy as np
from spherical_geometry.polygon import MalformedPolygonError, SphericalPolygon

__all__ = [
    "AMBIGUOUS",
    "DISJOINT",
    "OVERLAP",
    "bounding_caps",
    "candidate_pairs",
    "classify_candidates",
    "group_pairs",
    "intersect_polygons",
    "intersection_areas",
    "overlapping_image_pairs",
]

DISJOINT, OVERLAP, AMBIGUOUS = 0, 1, 2

#: added to every cap radius (rad, ~2 mas): covers float64 round-off in the
#: caps themselves and in the reference's crossing / containment tests.
CAP_MARGIN = 1e-8
#: caps wider than this (rad) are not trusted to bound the polygon (a cap must
#: be well inside a hemisphere to be convex); such polygons get radius pi.
MAX_CAP_RADIUS = math.radians(80.0)
#: gnomonic projections are used only for vertices within this angle (rad).
MAX_PROJECTION_ANGLE = math.radians(75.0)
#: DISJOINT requires a separating line with this much clearance (tangent-plane
#: units >= radians).
SEPARATION_TOL = 1e-8
#: spherical_geometry treats a node as lying ON an arc of length L when
#: |d(A,C) + d(C,B) - d(A,B)| < 1e-10 (math_util.c intersects_point), i.e.
#: within ~sqrt(5e-11 * L) rad of it, and splits the arc there, which moves the
#: outline by up to that much.  OVERLAP requires a common disk whose radius
#: exceeds twice that plus OVERLAP_TOL (rad).
POINT_ON_ARC_LENGTH_TOL = 1e-10
OVERLAP_TOL = 1e-8


# ---------------------------------------------------------------------------
# exact reference operations


def intersect_polygons(a: SphericalPolygon, b: SphericalPolygon) -> SphericalPolygon:
    """``a ∩ b`` exactly as stcal's ``SkyImage.intersection`` (self=a, other=b).

    spherical_geometry may raise ``MalformedPolygonError`` for nearly identical
    polygons; stcal (commits 804cf23d / b1178820) then uses a copy of SELF's
    polygon as the intersection, hence the asymmetry: for such a pair
    ``intersect_polygons(a, b)`` is ``a`` and ``intersect_polygons(b, a)`` is ``b``.
    """
    try:
        return a.intersection(b)
    except MalformedPolygonError:
        return a.copy()


def intersection_areas(a: SphericalPolygon, b: SphericalPolygon) -> tuple[float, float]:
    """(|area(a ∩ b)|, |area(b ∩ a)|) in steradians, as ``SkyImage.calc_sky`` gets them."""
    return (
        float(np.fabs(intersect_polygons(a, b).area())),
        float(np.fabs(intersect_polygons(b, a).area())),
    )


# ---------------------------------------------------------------------------
# geometry helpers


def _parts(polygon):
    """Unit-vector vertex arrays (closing point dropped) and inside points of all parts."""
    parts = []
    for sub in polygon:
        if getattr(sub, "_degenerate", False):
            continue
        pts = np.asarray(sub.points, dtype=float)
        if pts.ndim != 2 or len(pts) < 4:
            continue
        if np.array_equal(pts[0], pts[-1]):
            pts = pts[:-1]
        parts.append((pts, None if sub.inside is None else np.asarray(sub.inside, dtype=float)))
    return parts


def _angle(u, v):
    """Angle between unit vectors (broadcasting), accurate at all separations."""
    cross = np.linalg.norm(np.cross(u, v), axis=-1)
    return np.arctan2(cross, np.sum(u * v, axis=-1))


def _tangent_basis(m):
    """Orthonormal e1, e2 perpendicular to the unit vector m."""
    ref = np.array([0.0, 0.0, 1.0]) if abs(m[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(ref, m)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(m, e1)
    return e1, e2


def _gnomonic(points, m, e1, e2):
    """Tangent-plane coordinates about m; great circles map to straight lines."""
    w = points @ m
    return np.column_stack((points @ e1 / w, points @ e2 / w)), w


def _signed_area2(xy):
    x, y = xy[:, 0], xy[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _point_in_polygon(pt, xy):
    """Even-odd test of a planar point; also returns its distance to the boundary."""
    a = xy
    b = np.roll(xy, -1, axis=0)
    ay, by = a[:, 1], b[:, 1]
    crosses = (ay > pt[1]) != (by > pt[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        xint = a[:, 0] + (pt[1] - ay) * (b[:, 0] - a[:, 0]) / (by - ay)
    inside = bool(np.count_nonzero(crosses & (pt[0] < xint)) % 2)
    d = b - a
    t = np.clip(np.einsum("ij,ij->i", pt - a, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-300), 0.0, 1.0)
    dist = float(np.min(np.linalg.norm(a + t[:, None] * d - pt, axis=1)))
    return inside, dist


def _hull_indices(xy):
    """Indices of the convex hull (counter-clockwise, monotone chain, collinear dropped)."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for k in order:
        while len(lower) >= 2 and cross(xy[lower[-2]], xy[lower[-1]], xy[k]) <= 0:
            lower.pop()
        lower.append(int(k))
    for k in order[::-1]:
        while len(upper) >= 2 and cross(xy[upper[-2]], xy[upper[-1]], xy[k]) <= 0:
            upper.pop()
        upper.append(int(k))
    return lower[:-1] + upper[:-1]


# ---------------------------------------------------------------------------
# stage 1: bounding caps and candidate pairs


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
        parts = _parts(polygon)
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
        r = float(np.max(_angle(c, pts)))
        if not r < MAX_CAP_RADIUS:
            radii[k] = math.pi
            continue
        e1, e2 = _tangent_basis(c)
        ok = True
        for part_pts, inside in parts:
            if inside is None or not np.all(np.isfinite(inside)) or float(inside @ c) <= math.cos(MAX_CAP_RADIUS):
                ok = False
                break
            xy, _ = _gnomonic(part_pts, c, e1, e2)
            pin, _ = _gnomonic(inside[None, :], c, e1, e2)
            is_in, dist = _point_in_polygon(pin[0], xy)
            if not is_in or dist < 1e-9 * max(1.0, float(np.max(np.abs(xy)))):
                ok = False
                break
        radii[k] = r + CAP_MARGIN if ok else math.pi
    return centres, radii


def _chord(theta):
    theta = np.minimum(np.asarray(theta, dtype=float), math.pi)
    return 2.0 * np.sin(theta / 2.0) * (1.0 + 1e-12) + 1e-15


def candidate_pairs(polygons, caps=None) -> np.ndarray:
    """Pairs (i, j), i < j, whose bounding caps intersect: shape (k, 2), lexicographically sorted.

    A superset of the pairs with a non-zero reference intersection (see
    :func:`bounding_caps`).  Polygons with no area never appear.  Unit vectors
    make RA wrap-around and the poles need no special case.  Caps are bucketed
    by radius (factors of 2) and each pair of buckets is searched with a
    KD-tree at the chord of the two buckets' maximum radii, then filtered by
    ``angle(c_i, c_j) <= r_i + r_j``, so a few large polygons do not inflate
    the search radius for all the small ones.
    """
    from scipy.spatial import cKDTree  # here: the pair stage imports this module but needs no tree

    centres, radii = caps if caps is not None else bounding_caps(polygons)
    valid = np.nonzero(np.isfinite(radii))[0]
    if valid.size < 2:
        return np.empty((0, 2), dtype=np.int64)
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
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.vstack(found).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    keep = _angle(centres[pairs[:, 0]], centres[pairs[:, 1]]) <= radii[pairs[:, 0]] + radii[pairs[:, 1]]
    pairs = np.unique(pairs[keep], axis=0)
    return pairs


# ---------------------------------------------------------------------------
# stage 2: cheap classification of candidates


class _Shape:
    """Per-polygon data for the classification: convex hull and its pocket depth.

    ``hull``: unit vectors of the spherical convex hull, ordered so that the
    hull is ``{p: (h_k x h_k+1) . p >= 0 for all k}``.  ``depth``: how far
    (tangent-plane units about the cap centre, which bound angles from above)
    the polygon's boundary recedes from its hull -- 0 for convex polygons;
    every hull point farther than ``depth`` from all hull edges is inside the
    polygon (each pocket lies in a strip of that width along its hull edge).
    """

    __slots__ = ("points", "hull", "depth", "max_edge", "usable")

    def __init__(self, polygon, centre, radius):
        self.usable = False
        parts = _parts(polygon)
        if len(parts) != 1 or not radius <= MAX_CAP_RADIUS:
            return
        pts = parts[0][0]
        e1, e2 = _tangent_basis(centre)
        xy, _ = _gnomonic(pts, centre, e1, e2)
        if _signed_area2(xy) < 0:
            pts = pts[::-1]
            xy = xy[::-1]
        hull = _hull_indices(xy)
        if len(hull) < 3:
            return
        # hull vertices of a simple polygon appear in the polygon's own cyclic order
        start = hull.index(min(hull))
        hull = hull[start:] + hull[:start]
        if any(b <= a for a, b in zip(hull, hull[1:])):
            return
        n = len(pts)
        depth = 0.0
        for k, h in enumerate(hull):
            nxt = hull[(k + 1) % len(hull)]
            between = np.arange(h + 1, nxt if nxt > h else nxt + n) % n
            if between.size:
                a, b = xy[h], xy[nxt]
                d = b - a
                length = math.hypot(d[0], d[1])
                if length == 0.0:
                    return
                off = np.abs(d[0] * (xy[between, 1] - a[1]) - d[1] * (xy[between, 0] - a[0])) / length
                depth = max(depth, float(off.max()))
        hull_pts = pts[hull]
        # the cap centre (vertex mean) is inside the hull: every edge plane must face it
        if not np.all(np.cross(hull_pts, np.roll(hull_pts, -1, axis=0)) @ centre > 0):
            return
        self.points = pts
        self.hull = hull_pts
        self.depth = depth
        self.max_edge = float(np.max(_angle(pts, np.roll(pts, -1, axis=0))))
        self.usable = True


def _padded(hulls, width):
    """Stack hulls into (n, width, 3), repeating each last vertex (zero-length edges)."""
    out = np.empty((len(hulls), width, 3))
    for k, h in enumerate(hulls):
        out[k, : len(h)] = h
        out[k, len(h):] = h[-1]
    return out


def _edge_normals(v):
    """(n, K, 3) edge plane normals v_k x v_k+1 (zero for padding edges)."""
    return np.cross(v, np.roll(v, -1, axis=1))


def _separated_batch(na, vb, tol):
    """Some edge great circle of a has every vertex of b beyond it by > tol rad."""
    length = np.linalg.norm(na, axis=2)
    side = np.einsum("nkc,njc->nkj", na, vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        outside = side.max(axis=2) < -tol * length
    return np.any(outside & (length > 0), axis=1)


def _vertex_edge_distance(pa, pb):
    """Smallest distance (rad, chord) from a vertex of ``pa`` to an edge arc of ``pb``, per pair."""
    a = pb
    b = np.roll(pb, -1, axis=1)
    nrm = np.cross(a, b)
    nlen = np.linalg.norm(nrm, axis=2)
    p = pa[:, :, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.abs(np.einsum("nijc,njc->nij", np.broadcast_to(p, p.shape[:2] + (a.shape[1], 3)), nrm)) / nlen[:, None, :]
    within = (
        (np.einsum("nijc,njc->nij", np.cross(a[:, None, :, :], p), nrm) >= 0)
        & (np.einsum("nijc,njc->nij", np.cross(p, b[:, None, :, :]), nrm) >= 0)
        & (nlen[:, None, :] > 0)
    )
    d_line = np.where(within, s, np.inf)
    d_end = np.minimum(np.linalg.norm(p - a[:, None, :, :], axis=3), np.linalg.norm(p - b[:, None, :, :], axis=3))
    return np.minimum(d_line, d_end).min(axis=(1, 2))


def _clip_batch(va, nb, width):
    """Sutherland-Hodgman on the sphere, vectorised over pairs.

    Subject: convex hulls ``va`` (n, Ka, 3); clip half-spaces ``nb`` (n, Kb, 3)
    (``p . n >= 0`` inside; zero normals keep everything).  Points stay on
    the rays through the true vertices (chord interpolation stays in the
    plane of the great circle).  Returns (points (n, width, 3), counts).
    """
    n, ka, _ = va.shape
    pts = np.zeros((n, width, 3))
    pts[:, :ka] = va
    count = np.full(n, ka)
    slots = np.arange(width)
    rows = np.arange(n)[:, None]
    for k in range(nb.shape[1]):
        normal = nb[:, k, :]
        valid = slots[None, :] < count[:, None]
        nxt_idx = np.where(slots[None, :] + 1 < count[:, None], slots[None, :] + 1, 0)
        nxt = pts[rows, nxt_idx]
        s = np.einsum("nwc,nc->nw", pts, normal)
        s_nxt = s[rows, nxt_idx]
        keep = valid & (s >= 0)
        cross = valid & ((s >= 0) != (s_nxt >= 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(cross, s / (s - s_nxt), 0.0)
        inter = pts + t[:, :, None] * (nxt - pts)
        cand = np.stack((pts, inter), axis=2).reshape(n, 2 * width, 3)
        mask = np.stack((keep, cross), axis=2).reshape(n, 2 * width)
        order = np.argsort(~mask, axis=1, kind="stable")[:, :width]
        pts = cand[rows, order]
        count = mask.sum(axis=1)
        if np.any(count > width):  # cannot happen for convex inputs; be safe
            raise RuntimeError("clip overflow")
    return pts, count


def _classify_batch(shapes_a, shapes_b, ca, cb):
    """Codes and approximate areas for pairs of usable shapes (vectorised)."""
    n = len(shapes_a)
    codes = np.full(n, AMBIGUOUS, dtype=np.int8)
    areas = np.full(n, np.nan)
    ka = max(len(s.hull) for s in shapes_a)
    kb = max(len(s.hull) for s in shapes_b)
    va = _padded([s.hull for s in shapes_a], ka)
    vb = _padded([s.hull for s in shapes_b], kb)
    m = ca + cb
    mnorm = np.linalg.norm(m, axis=1)
    ok = mnorm > 1e-12
    m = m / np.where(ok, mnorm, 1.0)[:, None]
    wmin = np.minimum(np.einsum("nkc,nc->nk", va, m).min(axis=1), np.einsum("nkc,nc->nk", vb, m).min(axis=1))
    ok &= wmin > math.cos(MAX_PROJECTION_ANGLE)
    na = _edge_normals(va)
    nb = _edge_normals(vb)
    disjoint = ok & (_separated_batch(na, vb, SEPARATION_TOL) | _separated_batch(nb, va, SEPARATION_TOL))
    codes[disjoint] = DISJOINT
    todo = np.nonzero(ok & ~disjoint)[0]
    if todo.size == 0:
        return codes, areas
    width = ka + kb + 2
    pts, count = _clip_batch(va[todo], nb[todo], width)
    mt = m[todo]
    # tangent plane at m: area / perimeter bounds the inradius of the common hull
    ref = np.where(np.abs(mt[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    e1 = np.cross(ref, mt)
    e1 /= np.linalg.norm(e1, axis=1)[:, None]
    e2 = np.cross(mt, e1)
    slots = np.arange(width)
    valid = slots[None, :] < count[:, None]
    w = np.einsum("nwc,nc->nw", pts, mt)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(valid, np.einsum("nwc,nc->nw", pts, e1) / w, 0.0)
        y = np.where(valid, np.einsum("nwc,nc->nw", pts, e2) / w, 0.0)
    rows = np.arange(todo.size)[:, None]
    nxt_idx = np.where(slots[None, :] + 1 < count[:, None], slots[None, :] + 1, 0)
    xn, yn = x[rows, nxt_idx], y[rows, nxt_idx]
    area2 = np.sum(np.where(valid, x * yn - xn * y, 0.0), axis=1)
    perim = np.sum(np.where(valid, np.hypot(xn - x, yn - y), 0.0), axis=1)
    wt = wmin[todo]
    depth = np.array([shapes_a[k].depth + shapes_b[k].depth for k in todo]) / wt**2
    snap = np.sqrt(POINT_ON_ARC_LENGTH_TOL / 2.0 * np.array(
        [max(shapes_a[k].max_edge, shapes_b[k].max_edge) for k in todo]))
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.where((count >= 3) & (perim > 0), area2 / 2.0 / perim, 0.0) - depth
    tol = OVERLAP_TOL + 2.0 * snap
    overlap = (count >= 3) & (area2 > 0) & (radius * wt**2 > tol)
    # a vertex within snapping distance of the other outline (e.g. nearly
    # identical polygons) can make the reference return an empty or a
    # self-copy intersection: leave such pairs to the reference
    pa = _padded([shapes_a[k].points for k in todo], max(len(shapes_a[k].points) for k in todo))
    pb = _padded([shapes_b[k].points for k in todo], max(len(shapes_b[k].points) for k in todo))
    close = np.minimum(_vertex_edge_distance(pa, pb), _vertex_edge_distance(pb, pa))
    overlap &= close > OVERLAP_TOL + 1.5 * snap
    # spherical area of the common hull: fan of Van Oosterom-Strackee triangles
    unit = pts / np.where(valid, np.linalg.norm(pts, axis=2), 1.0)[:, :, None]
    a0 = unit[:, :1, :]
    b = unit[:, 1:-1, :]
    c = unit[:, 2:, :]
    tri = slots[None, 2:] < count[:, None]
    num = np.abs(np.einsum("nwc,nwc->nw", np.cross(b, c), np.broadcast_to(a0, b.shape)))
    den = 1.0 + np.einsum("nwc,nwc->nw", b, np.broadcast_to(a0, b.shape)) + np.einsum("nwc,nwc->nw", b, c) \
        + np.einsum("nwc,nwc->nw", c, np.broadcast_to(a0, c.shape))
    sph = np.sum(np.where(tri, 2.0 * np.arctan2(num, den), 0.0), axis=1)
    # Girard areas are quantised at the float spacing of (n - 2) pi: demand
    # many quanta so the reference cannot round the area to 0.0
    nvert = np.array([len(shapes_a[k].points) + len(shapes_b[k].points) for k in todo])
    overlap &= sph > 256.0 * np.spacing(nvert * math.pi)
    codes[todo[overlap]] = OVERLAP
    areas[todo[overlap]] = sph[overlap]
    return codes, areas


def classify_candidates(polygons, pairs=None, caps=None):
    """Classify candidate pairs: (codes, approximate_areas).

    codes[k] is ``DISJOINT`` (the reference's intersection is the empty
    polygon, area exactly 0 both ways), ``OVERLAP`` (the polygons share a disk
    whose radius exceeds every tolerance of spherical_geometry by a wide
    margin, so the reference area is > 0 both ways) or ``AMBIGUOUS`` (ask the
    reference: touching or sliver overlaps, multi-part polygons, caps wider
    than 80 deg, non-simple outlines).  approximate_areas[k] is the float64
    area (sr) of the intersection of the two polygons' convex hulls for
    ``OVERLAP`` pairs (the exact intersection for convex footprints), nan
    otherwise.  Pairs are processed in vectorised batches of similar hull size.
    """
    caps = caps if caps is not None else bounding_caps(polygons)
    pairs = candidate_pairs(polygons, caps) if pairs is None else np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    centres, radii = caps
    codes = np.full(len(pairs), AMBIGUOUS, dtype=np.int8)
    areas = np.full(len(pairs), np.nan)
    if len(pairs) == 0:
        return codes, areas
    shapes = {}
    for idx in np.unique(pairs):
        shapes[int(idx)] = _Shape(polygons[idx], centres[idx], radii[idx])
    usable = np.array([shapes[int(i)].usable and shapes[int(j)].usable for i, j in pairs])
    size = np.array([
        max(len(shapes[int(i)].points), len(shapes[int(j)].points)) if u else 0
        for (i, j), u in zip(pairs, usable)
    ])
    bucket = np.where(usable, np.ceil(np.log2(np.maximum(size, 1))), -1)
    for b in np.unique(bucket):
        if b < 0:
            continue
        members = np.nonzero(bucket == b)[0]
        per_chunk = max(1, int(2_000_000 // (2 ** (2 * int(b)) * 3)))
        for chunk in np.array_split(members, max(1, int(np.ceil(members.size / per_chunk)))):
            sa = [shapes[int(i)] for i in pairs[chunk, 0]]
            sb = [shapes[int(j)] for j in pairs[chunk, 1]]
            c, a = _classify_batch(sa, sb, centres[pairs[chunk, 0]], centres[pairs[chunk, 1]])
            codes[chunk] = c
            areas[chunk] = a
    return codes, areas


# ---------------------------------------------------------------------------
# stage 3: overlapping image pairs


def overlapping_image_pairs(polygons, exact=True, pairs=None, n_jobs=1, defer_ambiguous=False):
    """Overlapping image pairs as ``[(i, j, area_ij, area_ji), ...]``, i < j, sorted.

    ``area_ij = |area(intersect_polygons(p_i, p_j))|`` (what
    ``images[i].calc_sky(overlap=images[j])`` reports as polyarea) and
    ``area_ji = |area(intersect_polygons(p_j, p_i))|`` (the other direction);
    they differ only by round-off, except for nearly identical polygons where
    the ``MalformedPolygonError`` fallback makes each direction the area of
    its own ``self`` polygon.  A pair is listed when EITHER area is > 0; the
    reference uses a pair only when BOTH are > 0 (and both sides have valid
    pixels), which the pair stage decides.

    Candidates come from :func:`candidate_pairs` (or ``pairs``) and are
    pre-classified with :func:`classify_candidates`; ``DISJOINT`` candidates
    are dropped without calling spherical_geometry (their reference area is
    exactly 0.0).  With ``exact=True`` every other candidate is intersected by
    the reference code, so areas are bit-identical to stcal's.  With
    ``exact=False`` only ``AMBIGUOUS`` candidates are; ``OVERLAP`` pairs get
    the float64 hull-intersection area for both directions (agrees with the
    reference to ~1e-10 relative for convex footprints; the set of pairs and
    which areas are zero are the same as with ``exact=True``).

    ``n_jobs`` > 1 runs the reference intersections in that many worker
    processes (fork); results do not depend on it.

    ``defer_ambiguous`` (with ``exact=False``): ``AMBIGUOUS`` candidates are
    listed with NaN areas instead of being intersected here ("maybe" pairs),
    for a caller whose next stage intersects every pair exactly anyway.
    """
    caps = bounding_caps(polygons)
    pairs = candidate_pairs(polygons, caps) if pairs is None else np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    codes, approx = classify_candidates(polygons, pairs, caps)
    result = []
    todo = []
    for (i, j), code, area in zip(pairs.tolist(), codes, approx):
        if code == DISJOINT:
            continue
        if code == OVERLAP and not exact:
            result.append((i, j, float(area), float(area)))
        elif code == AMBIGUOUS and not exact and defer_ambiguous:
            result.append((i, j, math.nan, math.nan))
        else:
            todo.append((i, j))
    for (i, j), (a_ij, a_ji) in zip(todo, _reference_areas(polygons, todo, n_jobs)):
        if a_ij > 0.0 or a_ji > 0.0:
            result.append((i, j, a_ij, a_ji))
    result.sort(key=lambda t: (t[0], t[1]))
    return result


_WORKER_POLYGONS = None


def _worker_init(polygons):
    global _WORKER_POLYGONS
    _WORKER_POLYGONS = polygons


def _worker_areas(chunk):
    return [intersection_areas(_WORKER_POLYGONS[i], _WORKER_POLYGONS[j]) for i, j in chunk]


def _reference_areas(polygons, index_pairs, n_jobs):
    if n_jobs is None or n_jobs <= 1 or len(index_pairs) < 2 * n_jobs:
        return [intersection_areas(polygons[i], polygons[j]) for i, j in index_pairs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, len(index_pairs) // (8 * n_jobs))
    chunks = [index_pairs[k:k + size] for k in range(0, len(index_pairs), size)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_worker_init, initargs=(polygons,)) as pool:
        return [a for part in pool.map(_worker_areas, chunks) for a in part]


# ---------------------------------------------------------------------------
# sky groups


def group_pairs(image_pairs, image_groups):
    """Aggregate image pairs into pairs of DIFFERENT sky groups.

    ``image_pairs``: output of :func:`overlapping_image_pairs` (3-tuples
    ``(i, j, area)`` are accepted too and then used for both directions).
    ``image_groups[k]``: group id of image k.  Groups are ordered by first
    appearance in ``image_groups`` (as the step orders
    ``library.group_indices``); a group pair ``(a, b)`` has ``a`` first.

    Returns, in order of (a, b), dicts with
    ``group_a``, ``group_b``;
    ``area_sr`` = sum over member pairs of |area(member_a ∩ member_b)|, which is
    what ``group_a.calc_sky(overlap=group_b)`` sums as polyarea (zero terms
    are skipped there, so the sums agree; the reference's group area also
    drops members whose own pixel selection is empty -- a pixel-level matter
    for the pair stage);
    ``area_ba_sr`` = the same in the other direction;
    ``members`` = sorted ``(image in a, image in b)`` index tuples.
    Member pairs inside one group are dropped: the reference never compares
    members of one group with each other.
    """
    order = {}
    for g in image_groups:
        order.setdefault(g, len(order))
    acc = {}
    for entry in image_pairs:
        i, j, a_ij = int(entry[0]), int(entry[1]), float(entry[2])
        a_ji = float(entry[3]) if len(entry) > 3 else a_ij
        gi, gj = image_groups[i], image_groups[j]
        if gi == gj:
            continue
        if order[gi] > order[gj]:
            i, j, gi, gj, a_ij, a_ji = j, i, gj, gi, a_ji, a_ij
        acc.setdefault((gi, gj), []).append((i, j, a_ij, a_ji))
    out = []
    for (ga, gb) in sorted(acc, key=lambda k: (order[k[0]], order[k[1]])):
        members = sorted(acc[(ga, gb)])
        # summed in sorted member order: the floats do not depend on input order
        area_ab = area_ba = 0.0
        for _, _, a_ij, a_ji in members:
            area_ab += a_ij
            area_ba += a_ji
        out.append({
            "group_a": ga,
            "group_b": gb,
            "area_sr": area_ab,
            "area_ba_sr": area_ba,
            "members": [(i, j) for i, j, _, _ in members],
        })
    return out
