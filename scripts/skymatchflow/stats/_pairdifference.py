"""Overlap statistics on pixel-wise differences (``pair_statistic: difference``).

Why: the reference takes one statistic of each side's own pixels in an
overlap. When the two sides see different pixel sets (a nebula's core
flagged in one exposure only) or the statistic is pulled by extended
emission, the two statistics differ by emission, not by sky, and the solve
turns that into steps between tiles. Here each member image of side A is
compared with each overlapping member of side B pixel by pixel: B is
resampled onto A's pixel grid inside the overlap with astropy's
``reproject`` (bilinear), and the clipped statistic is taken of A - B on the
pixels good in both (and inside ``lower``/``upper`` on both sides). Emission
that both images see cancels.

The pair's value is the npix-weighted mean of its member-pair statistics
(as the reference combines member statistics); it goes into the same
equation as the reference's ``sky_a - sky_b``.
"""

import numpy as np

from skymatchflow.geometry.intersection import overlap_pieces
from skymatchflow.geometry.scanfill import fill_bounding_window, scan_fill
from skymatchflow.stats._statnoise import noise_factor, pixel_noise, statistic_noise
from skymatchflow.stats.imagestats import sky_statistic
from skymatchflow.stats.pairimage import pixel_coordinates, read_pixels, union_window
from skymatchflow.stats.statparams import stat_kwargs

#: pixels added around B's window so that bilinear interpolation has neighbours
RESAMPLE_MARGIN = 2
#: a resampled B pixel is used only where every input pixel it draws on was good
GOOD_FRACTION = 0.999


def _window_wcs(wcs, window):
    row0, row1, col0, col1 = window
    return wcs.slice((slice(row0, row1), slice(col0, col1)))


def _padded(window, shape, margin):
    row0, row1, col0, col1 = window
    return (max(0, row0 - margin), min(shape[0], row1 + margin), max(0, col0 - margin), min(shape[1], col1 + margin))


def member_difference(image_a, image_b, stat_params):
    """(A - B pixels inside their overlap, good in both, or None; the reason or None; their independent scatter).

    The independent scatter (:func:`independent_scatter`) sets the floor of the pair's noise.
    """
    return located_difference(image_a, image_b, stat_params)[:3]


def located_difference(image_a, image_b, stat_params):
    """:func:`member_difference` and where its pixels are: (rows, columns) in A, or None without a difference.

    For sky models that vary across an image (solve/_plane.py): each
    difference needs its position.
    """
    from reproject import reproject_interp  # heavy: only pairs measured this way need it

    area, pieces = overlap_pieces(image_a.polygon, [image_b.polygon])
    if area == 0.0:
        return None, "no overlap", None, None
    pieces_a, pieces_b = pixel_coordinates(image_a, pieces), pixel_coordinates(image_b, pieces)
    if pieces_a is None or pieces_b is None:
        return None, "the WCS cannot be inverted over the overlap", None, None
    windows_a = [w for w in (fill_bounding_window(x, y, image_a.shape) for x, y in pieces_a) if w]
    windows_b = [w for w in (fill_bounding_window(x, y, image_b.shape) for x, y in pieces_b) if w]
    if not windows_a or not windows_b:
        return None, "the overlap covers no pixel of an image", None, None
    window_a = union_window(windows_a)
    window_b = _padded(union_window(windows_b), image_b.shape, RESAMPLE_MARGIN)
    sci_a, mask_a = read_pixels(image_a, window_a)
    sci_b, mask_b = read_pixels(image_b, window_b)
    fill = np.zeros(sci_a.shape, dtype=bool)
    for x, y in pieces_a:
        scan_fill(x, y, image_a.shape, window=window_a, out=fill)
    good_b = mask_b & _within_limits(sci_b, stat_params)
    stack = np.stack([np.where(good_b, sci_b, 0.0), good_b.astype(np.float64)])
    resampled, _ = reproject_interp(
        (stack, _window_wcs(image_b.wcs, window_b)),
        _window_wcs(image_a.wcs, window_a),
        shape_out=sci_a.shape,
        order="bilinear",
    )
    b_on_a, b_good = resampled
    use = fill & mask_a & _within_limits(sci_a, stat_params) & (b_good >= GOOD_FRACTION) & np.isfinite(b_on_a)
    if not use.any():
        return None, "no pixel good in both images in the overlap", None, None
    # b_on_a was resampled from zero-filled bad pixels; where b_good ~ 1 the
    # weight of bad neighbours is < 0.1 %, so divide it out exactly
    side_a, side_b = sci_a[use], b_on_a[use] / b_good[use]
    rows, columns = np.nonzero(use)
    located = (rows + window_a[0], columns + window_a[2])
    return (side_a - side_b).astype(np.float32), None, independent_scatter(side_a, side_b), located


def _within_limits(sci, stat_params):
    """Pixels inside the statistic's ``lower``/``upper`` (those bound data values, not differences)."""
    ok = np.isfinite(sci)
    if stat_params.get("lower") is not None:
        ok &= sci >= stat_params["lower"]
    if stat_params.get("upper") is not None:
        ok &= sci <= stat_params["upper"]
    return ok


#: a pair's noise is at least this fraction of what independent sides would give
NOISE_FLOOR_FRACTION = 0.5


def independent_scatter(side_a, side_b):
    """The scatter the differences would have if the sides' pixels were independent.

    Why: two sides that share pixels (neighbouring tiles of one 2MASS scan
    are cut from the same frames) differ by almost exactly a constant, so
    the scatter of their differences, hence the measured noise, is near 0
    (1e-5 DN on M17). Such a pair then outweighs every other in the robust
    solve and makes any disagreement look like thousands of sigma. Each
    side's pixel noise is taken from differences of neighbouring pixels
    (the values come in row order), so that emission across the overlap,
    which the differences cancel, does not raise the floor; B is taken
    after resampling, which smooths it, so the floor errs low.
    """
    return float(np.hypot(pixel_noise(side_a), pixel_noise(side_b)))


def difference_stat(diff, stat_params):
    """(value, npix, noise) of the clipped statistic of ``diff``; value None if it has none.

    ``noise``: the standard error of the value from the scatter of the
    differences (stats._statnoise), which the robust solve scales each
    pair's residual by.
    """
    kwargs = dict(stat_kwargs(stat_params), lower=None, upper=None)
    stat = sky_statistic(diff, **kwargs)
    if stat.value is None:
        return None, 0, None, stat.reason
    noise = statistic_noise(diff, stat.npix, kwargs["skystat"], kwargs["binwidth"])
    return float(stat.value), int(stat.npix), noise, None


def difference_record(group_a, members_a, group_b, members_b, stat_params, located_hook=None):
    """A pair record (same layout as ``pairstats.pair_record``) from pixel-wise differences.

    Side A's ``sky`` holds the pair's difference statistic and side B's 0, so
    that ``sky_a - sky_b`` is the measured difference as for the reference;
    ``npix`` is the number of differences on both sides. ``located_hook(a,
    b, diff, located)``: called with each member pair's differences and
    their (rows, columns) in A, for sky models that need positions
    (stats/_planesamples.py); the differences are computed once.
    """
    weighted = weight = 0.0
    noise2 = 0.0
    members, reasons = [], set()
    for a in members_a:
        for b in members_b:
            diff, reason, scatter, located = located_difference(a, b, stat_params)
            if located_hook is not None and diff is not None:
                located_hook(a, b, diff, located)
            value = npix = noise = measured = None
            if diff is not None:
                value, npix, measured, reason = difference_stat(diff, stat_params)
            if measured is not None:
                factor = noise_factor(npix, stat_params["skystat"], stat_params["binwidth"])
                noise = max(measured, NOISE_FLOOR_FRACTION * factor * scatter)
            members.append({"a": a.image, "b": b.image, "difference": value, "npix": npix or 0,
                            "noise": noise, "noise_measured": measured, "reason": reason})
            if value is None:
                if reason != "no overlap":
                    reasons.add(reason)
                continue
            weighted += value * npix
            weight += npix
            noise2 += (noise * npix) ** 2
    valid = weight > 0
    value = weighted / weight if valid else None
    noise = float(np.sqrt(noise2) / weight) if valid else None
    reason = None if valid else "; ".join(sorted(reasons)) or "no overlap"
    npix = int(weight)
    return {
        "group_a": group_a,
        "group_b": group_b,
        "valid": valid,
        "reason": reason,
        "statistic": "difference",
        "noise": noise,
        "a": {"sky": value, "npix": npix, "area_sr": None, "members": members},
        "b": {"sky": 0.0 if valid else None, "npix": npix, "area_sr": None, "members": []},
    }
