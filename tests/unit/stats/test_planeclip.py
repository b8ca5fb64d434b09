"""The robust clip of an overlap's differences to their own plane (stats/_planeclip.py)."""

import numpy as np

from skymatchflow.stats._planeclip import clipped_plane_pixels


def test_clipping_drops_sources_and_keeps_the_plane():
    """An overlap's differences: a tilted plane, noise, and 5 % of pixels on a bright residual source."""
    rng = np.random.default_rng(11)
    x, y = rng.uniform(-60, 60, 5000), rng.uniform(-20, 20, 5000)
    d = 2.0 + 0.01 * x - 0.02 * y + rng.normal(0.0, 0.1, x.size)
    source = np.arange(x.size) < 250
    d[source] += 5.0 + rng.exponential(5.0, 250)
    keep = clipped_plane_pixels(x, y, d)
    assert not keep[source].any() and keep[~source].mean() > 0.99
    phi = np.stack([np.ones_like(x), x, y], axis=1)[keep]
    fitted = np.linalg.lstsq(phi, d[keep], rcond=None)[0]
    assert np.all(np.abs(fitted - [2.0, 0.01, -0.02]) < [0.01, 2e-4, 5e-4])
