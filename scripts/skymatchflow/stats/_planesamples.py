"""An overlap's pixel-wise differences with their positions, for the plane sky model (``sky_model: plane``).

Why: a plane per sky group is fitted to where in the overlap each
difference lies, so the pair stage must pass positions on, not one number.
Every pixel enters, but a pair record stays small: each member pair's
differences are first clipped to their own plane (:func:`clipped`, as
Montage's mFitplane clips each overlap, so that stars and emission left in
the differences do not pull it), then
averaged in cells of a grid over the overlap (at most ``CELLS`` x
``CELLS``). A cell keeps its pixel count, its mean difference and the sky
position (RA, Dec in degrees, ICRS as the footprints) of its mean pixel, a
frame common to every pair whatever the field: the solve projects them
onto one tangent plane of its own. A plane fitted to the cells, each
weighted by its pixel count, is the plane fitted to the clipped pixels up
to the spread of positions inside a cell (under 1/CELLS^2 of the moments).
"""

import numpy as np

from skymatchflow.stats._pairdifference import difference_record
from skymatchflow.stats._planeclip import clipped_plane_pixels

#: cells per side of the grid a member pair's differences are averaged in (at most CELLS^2 per member pair)
CELLS = 16
#: decimals kept of a cell's position in degrees (1e-9 deg = 4 micro-arcsec) and significant digits of its value
POSITION_DECIMALS = 9
VALUE_DIGITS = 8


def cell_means(rows, columns, differences, cells=CELLS):
    """(n, mean row, mean column, mean difference) per non-empty cell of a cells x cells grid over the pixels."""
    rows, columns = np.asarray(rows, float), np.asarray(columns, float)
    differences = np.asarray(differences, float)

    def bins(values):
        low, high = values.min(), values.max()
        step = max((high - low) / cells, 1e-12)
        return np.minimum(((values - low) / step).astype(int), cells - 1)

    cell = bins(rows) * cells + bins(columns)
    n = np.bincount(cell, minlength=cells * cells)
    used = n > 0

    def mean(values):
        return np.bincount(cell, weights=values, minlength=cells * cells)[used] / n[used]

    return n[used], mean(rows), mean(columns), mean(differences)


#: at most this many pixels (every k-th) find an overlap's plane and scatter for the clip
CLIP_SAMPLE = 20000


def clipped(x, y, d, nsigma=3.0):
    """The pixels within ``nsigma`` robust sigma of the overlap's own plane (stats/_planeclip.py).

    Why a sample: the clip's medians over every pixel of a large overlap
    cost as much as the differences themselves (the plane model's cost
    target is 1.5 x ``pair_statistic: difference``). The plane, its median
    residual and scatter come from every k-th pixel (at most CLIP_SAMPLE),
    clipped as :func:`clipped_plane_pixels`; the cut is then applied to
    every pixel, so that every good pixel enters the cells.
    """
    step = max(1, d.size // CLIP_SAMPLE)
    xs, ys, ds = x[::step], y[::step], d[::step]
    keep = clipped_plane_pixels(xs, ys, ds, nsigma)
    phi = np.stack([np.ones_like(xs), xs, ys], axis=1)
    coefficients = np.linalg.lstsq(phi[keep], ds[keep], rcond=None)[0]
    residual = ds[keep] - phi[keep] @ coefficients
    centre = np.median(residual)
    scatter = 1.4826 * np.median(np.abs(residual - centre))
    return np.abs(d - (coefficients[0] + coefficients[1] * x + coefficients[2] * y) - centre) <= nsigma * scatter


def member_samples(image_a, differences, located):
    """The cells of one member pair: {"ra", "dec", "difference", "npix"} lists (clipped pixels only)."""
    rows, columns = (np.asarray(v, float) for v in located)
    d = np.asarray(differences, float)
    keep = clipped(columns, rows, d) if d.size > 3 else np.ones(d.size, bool)
    if not keep.any():
        return None
    n, mean_rows, mean_columns, mean_d = cell_means(rows[keep], columns[keep], d[keep])
    ra, dec = image_a.wcs.all_pix2world(mean_columns, mean_rows, 0)
    return {
        "ra": [round(float(v) % 360.0, POSITION_DECIMALS) for v in np.atleast_1d(ra)],
        "dec": [round(float(v), POSITION_DECIMALS) for v in np.atleast_1d(dec)],
        "difference": [float(f"{v:.{VALUE_DIGITS}g}") for v in mean_d],
        "npix": [int(v) for v in n],
    }


def plane_record(group_a, members_a, group_b, members_b, stat_params):
    """The ``pair_statistic: difference`` record of a pair with its samples for the plane solve ("plane")."""
    samples = {"ra": [], "dec": [], "difference": [], "npix": []}

    def collect(image_a, image_b, differences, located):
        cells = member_samples(image_a, differences, located)
        if cells is not None:
            for name, values in cells.items():
                samples[name].extend(values)

    record = difference_record(group_a, members_a, group_b, members_b, stat_params, located_hook=collect)
    record["plane"] = samples if record["valid"] and samples["npix"] else None
    if record["valid"] and record["plane"] is None:
        record.update(valid=False, reason="no difference left for the plane fit after clipping")
    return record
