"""The reference's polygon intersection, exactly as stcal's SkyImage computes it.

Kept alone because every other overlap decision is measured against it:
the overlap graph calls it where the cheap tests cannot decide, and the
pair stage selects pixels with it.
"""

import numpy as np
from spherical_geometry.polygon import MalformedPolygonError, SphericalPolygon

from skymatchflow.geometry._ringorder import canonical_rings


def intersect_polygons(a: SphericalPolygon, b: SphericalPolygon) -> SphericalPolygon:
    """``a ∩ b`` exactly as stcal's ``SkyImage.intersection`` (self=a, other=b).

    spherical_geometry may raise ``MalformedPolygonError`` for nearly identical
    polygons; stcal (commits 804cf23d / b1178820) then uses a copy of SELF's
    polygon as the intersection, hence the asymmetry: for such a pair
    ``intersect_polygons(a, b)`` is ``a`` and ``intersect_polygons(b, a)`` is ``b``.
    The rings are traced from a fixed start (geometry/_ringorder.py), so the
    same polygons give the same result on every call.
    """
    try:
        with canonical_rings():
            return a.intersection(b)
    except MalformedPolygonError:
        return a.copy()


def intersection_areas(a: SphericalPolygon, b: SphericalPolygon) -> tuple[float, float]:
    """(|area(a ∩ b)|, |area(b ∩ a)|) in steradians, as ``SkyImage.calc_sky`` gets them."""
    return (
        float(np.fabs(intersect_polygons(a, b).area())),
        float(np.fabs(intersect_polygons(b, a).area())),
    )


def overlap_pieces(polygon, others, intersect=intersect_polygons):
    """(total area, [(ra, dec), ...]) of ``polygon`` intersected with each of ``others``.

    Areas of intersections that are empty are skipped, as the reference does;
    overlapping pieces are simply summed (the area is only a "> 0" test).
    ``intersect``: how to intersect two polygons (exactintersect.PairGeometry
    passes its own, which computes each pair's intersection once).
    """
    area = 0.0
    pieces = []
    for other in others:
        intersection = intersect(polygon, other)
        piece_area = abs(intersection.area())
        if piece_area == 0.0:
            continue
        area += piece_area
        pieces.extend(intersection.to_radec())
    return area, pieces
