"""Overlap graph: which images / sky groups overlap, as the reference decides it.

The reference (stcal ``_overlap_matrix``) visits all N(N-1)/2 element pairs
and, per direction, computes ``|area(self ∩ other)|`` with spherical_geometry
(``SkyImage.intersection`` + ``SkyImage.calc_sky``); a pair with a zero area in
either direction is skipped.  Here the same decision is reached without the
N^2 loop, in three stages:

1. candidates.py -- bounding caps + a KD-tree on unit vectors.
   Provably conservative: a pair outside the candidates cannot have a non-zero
   reference intersection (see :func:`bounding_caps`).
2. _classify.py -- a cheap float64 test per candidate in a
   gnomonic projection (great circles are straight lines there) with safety
   margins: ``DISJOINT`` (the reference's ``intersects_poly`` is False for every
   part, so its intersection is the empty polygon, area exactly 0.0),
   ``OVERLAP`` (the polygons share a disk much wider than every tolerance in
   spherical_geometry, so the reference area is > 0 in both directions) or
   ``AMBIGUOUS`` (touching, slivers, multi-part or very large polygons).
3. :func:`overlapping_image_pairs` -- the reference intersection
   (intersection.py, i.e. ``SkyImage.intersection``) for every
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

import math

import numpy as np

from skymatchflow.geometry._classify import AMBIGUOUS, DISJOINT, OVERLAP, classify_candidates
from skymatchflow.geometry.candidates import bounding_caps, candidate_pairs
from skymatchflow.geometry.intersection import intersection_areas


def overlapping_image_pairs(polygons, exact=True, pairs=None, defer_ambiguous=False, caps=None):
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

    ``defer_ambiguous`` (with ``exact=False``): ``AMBIGUOUS`` candidates are
    listed with NaN areas instead of being intersected here ("maybe" pairs),
    for a caller whose next stage intersects every pair exactly anyway.
    """
    caps = bounding_caps(polygons) if caps is None else caps  # caps: bounding_caps(polygons), when known
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
    for i, j in todo:
        a_ij, a_ji = intersection_areas(polygons[i], polygons[j])
        if a_ij > 0.0 or a_ji > 0.0:
            result.append((i, j, a_ij, a_ji))
    result.sort(key=lambda t: (t[0], t[1]))
    return result


def group_pairs(image_pairs, image_groups):
    """Aggregate image pairs into pairs of DIFFERENT sky groups.

    ``image_pairs``: output of :func:`overlapping_image_pairs`.
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
        i, j, a_ij, a_ji = int(entry[0]), int(entry[1]), float(entry[2]), float(entry[3])
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
