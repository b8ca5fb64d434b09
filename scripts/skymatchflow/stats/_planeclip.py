"""The pixels of one overlap that its own plane fits: the robust clip before a plane is fitted.

Here, below the pair stage and the solve, because the pair stage clips each
member pair's differences (stats/_planesamples.py) and measurements fit
planes to clipped overlaps (tests/benchmarks); the solve fits the planes
(solve/_plane.py).
"""

import numpy as np

__all__ = ["clipped_plane_pixels"]


def clipped_plane_pixels(x, y, d, nsigma=3.0, passes=5):
    """The pixels of one overlap that a plane fits to within ``nsigma`` robust sigma, iterated.

    Why: stars and residual emission in the differences pull a least-squares
    plane (on M17 the planes then reach 0.45 DN instead of 0.059); Montage's
    mFitplane clips each overlap's plane the same way. ``x``, ``y``, ``d``:
    the pixels' positions and differences; returns a boolean mask of them.
    """
    keep = np.ones(d.size, bool)
    phi = np.stack([np.ones_like(x), x, y], axis=1)
    for _ in range(passes):
        coefficients = np.linalg.lstsq(phi[keep], d[keep], rcond=None)[0]
        residual = d - phi @ coefficients
        scatter = 1.4826 * np.median(np.abs(residual[keep] - np.median(residual[keep])))
        new = np.abs(residual - np.median(residual[keep])) <= nsigma * scatter
        if np.array_equal(new, keep):
            break
        keep = new
    return keep
