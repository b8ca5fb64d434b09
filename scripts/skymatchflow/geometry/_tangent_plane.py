"""Unit vectors and the gnomonic (tangent-plane) projection, where great circles are straight lines.

The small planar tools the overlap tests build on: polygon parts as vertex
arrays, angles, a tangent basis, projection, signed area, point in polygon,
convex hull.
"""

import numpy as np


def polygon_parts(polygon):
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


def angle(u, v):
    """Angle between unit vectors (broadcasting), accurate at all separations."""
    cross = np.linalg.norm(np.cross(u, v), axis=-1)
    return np.arctan2(cross, np.sum(u * v, axis=-1))


def tangent_basis(m):
    """Orthonormal e1, e2 perpendicular to the unit vector m."""
    ref = np.array([0.0, 0.0, 1.0]) if abs(m[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(ref, m)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(m, e1)
    return e1, e2


def gnomonic(points, m, e1, e2):
    """Tangent-plane coordinates about m; great circles map to straight lines."""
    w = points @ m
    return np.column_stack((points @ e1 / w, points @ e2 / w)), w


def signed_area2(xy):
    x, y = xy[:, 0], xy[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def point_in_polygon(pt, xy):
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


def hull_indices(xy):
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
