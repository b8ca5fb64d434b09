"""Overlap discovery, stage 2: a cheap float64 verdict per candidate pair, with safety margins.

In a gnomonic projection about the pair: ``DISJOINT`` (the reference's
``intersects_poly`` is False for every part, so its intersection is the
empty polygon, area exactly 0.0), ``OVERLAP`` (the polygons share a disk
much wider than every tolerance in spherical_geometry, so the reference
area is > 0 in both directions) or ``AMBIGUOUS`` (touching, slivers,
multi-part or very large polygons: ask the reference).
"""

import math

import numpy as np

from skymatchflow.geometry._tangent_plane import (
    angle,
    gnomonic,
    hull_indices,
    polygon_parts,
    signed_area2,
    tangent_basis,
)
from skymatchflow.geometry.candidates import MAX_CAP_RADIUS, bounding_caps, candidate_pairs

DISJOINT, OVERLAP, AMBIGUOUS = 0, 1, 2

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
        parts = polygon_parts(polygon)
        if len(parts) != 1 or not radius <= MAX_CAP_RADIUS:
            return
        pts = parts[0][0]
        e1, e2 = tangent_basis(centre)
        xy, _ = gnomonic(pts, centre, e1, e2)
        if signed_area2(xy) < 0:
            pts = pts[::-1]
            xy = xy[::-1]
        hull = hull_indices(xy)
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
        self.max_edge = float(np.max(angle(pts, np.roll(pts, -1, axis=0))))
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
