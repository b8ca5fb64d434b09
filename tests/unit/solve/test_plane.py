"""The plane sky model's solve against an independent least-squares fit, and injected planes recovered to the noise."""

import numpy as np
import pytest

from skymatchflow.solve._plane import pair_moments, solve_planes

# five groups: a chain 0-1-2-3 closed by 0-2 and 1-3 (cycles), and 4 overlapping 3
LINKS = [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (3, 4)]


def overlap_pixels(rng, i, j, n=2000):
    """Positions of an overlap's pixels (arcsec on the field's tangent plane): a patch between two tiles."""
    centre = np.array([30.0 * (i + j), 10.0 * (i - j)])
    return centre[0] + rng.uniform(-20, 20, n), centre[1] + rng.uniform(-15, 15, n)


def scene(rng, planes, noise):
    """(pairs as (i, j, M, v), and every overlap's pixels (i, j, x, y, d)) for the injected ``planes``."""
    pairs, pixels = [], []
    for i, j in LINKS:
        x, y = overlap_pixels(rng, i, j)
        phi = np.stack([np.ones_like(x), x, y])
        d = (planes[i] - planes[j]) @ phi + rng.normal(0.0, noise, x.size)
        pairs.append((i, j, *pair_moments(x, y, d)))
        pixels.append((i, j, x, y, d))
    return pairs, pixels


def independent_fit(n_groups, pixels, weights):
    """The same fit, solved directly on the stacked pixels with numpy's lstsq (minimum norm)."""
    rows, values = [], []
    for (i, j, x, y, d), weight in zip(pixels, weights):
        block = np.zeros((x.size, 3 * n_groups))
        phi = np.stack([np.ones_like(x), x, y], axis=1)
        block[:, 3 * i:3 * i + 3] = phi
        block[:, 3 * j:3 * j + 3] = -phi
        rows.append(np.sqrt(weight) * block)
        values.append(np.sqrt(weight) * d)
    return np.linalg.lstsq(np.vstack(rows), np.concatenate(values), rcond=None)[0].reshape(n_groups, 3)


def gauge_free(theta):
    """Every group's plane minus group 0's: what the overlaps determine."""
    return theta - theta[0]


@pytest.mark.parametrize("weights", [None, [1.0, 0.2, 1.0, 3.0, 0.5, 1.0]], ids=["equal", "robust-like"])
def test_equals_an_independent_least_squares_fit(weights):
    rng = np.random.default_rng(27)
    planes = rng.normal(0.0, [1.0, 0.01, 0.01], (5, 3))
    pairs, pixels = scene(rng, planes, noise=0.3)
    ours = solve_planes(5, pairs, weights)
    theirs = independent_fit(5, pixels, np.ones(len(LINKS)) if weights is None else weights)
    np.testing.assert_allclose(gauge_free(ours), gauge_free(theirs), rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.sum(axis=0), 0.0, atol=1e-9)  # one island: the planes sum to 0


def test_injected_planes_recovered_to_the_noise():
    """Per-exposure ramps of 1 sigma across a 40-arcsec tile, in directions that change, under noise 1 sigma.

    The recovered planes (relative to group 0, which the overlaps fix) differ
    from the injected ones as the noise allows: chi-square of the error under
    the fit's own covariance, sigma^2 (J^T J)^-1 of the stacked pixels' design
    matrix, below its 99.99 % point for 12 unknowns.
    """
    from scipy.stats import chi2

    rng = np.random.default_rng(3)
    angles = rng.uniform(0, 2 * np.pi, 5)
    planes = np.column_stack([rng.normal(0, 5.0, 5), np.cos(angles) / 40.0, np.sin(angles) / 40.0])
    pairs, pixels = scene(rng, planes, noise=1.0)
    error = (gauge_free(solve_planes(5, pairs)) - gauge_free(planes))[1:].ravel()
    blocks = []
    for i, j, x, y, _ in pixels:
        block = np.zeros((x.size, 15))
        phi = np.stack([np.ones_like(x), x, y], axis=1)
        block[:, 3 * i:3 * i + 3], block[:, 3 * j:3 * j + 3] = phi, -phi
        blocks.append(block[:, 3:])  # group 0 held at 0
    design = np.vstack(blocks)
    assert error @ (design.T @ design) @ error < chi2.ppf(0.9999, 12)
    ramp_error = np.abs(error.reshape(4, 3)[:, 1:]).max() * 40  # across a tile
    assert ramp_error < 0.5  # the injected ramps are 1 sigma: each one recovered, not just their mean


def test_anchor_holds_its_plane_at_zero_and_a_lone_group_stays_zero():
    rng = np.random.default_rng(5)
    planes = rng.normal(0.0, [1.0, 0.01, 0.01], (6, 3))  # group 5 overlaps nothing
    pairs, _ = scene(rng, planes, noise=0.01)
    anchored = solve_planes(6, pairs, fixed=[2])
    np.testing.assert_allclose(anchored[[2, 5]], 0.0, atol=1e-12)
    np.testing.assert_allclose(gauge_free(anchored[:5]), gauge_free(solve_planes(6, pairs)[:5]), atol=1e-9)


def test_constant_differences_give_constant_planes():
    """Differences with no tilt: the plane model falls back to the constant one (tilts 0)."""
    rng = np.random.default_rng(9)
    levels = np.array([[3.0, 0, 0], [1.0, 0, 0], [-2.0, 0, 0], [0.5, 0, 0], [4.0, 0, 0]])
    pairs, _ = scene(rng, levels, noise=0.0)
    solved = solve_planes(5, pairs)
    np.testing.assert_allclose(solved[:, 1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(gauge_free(solved)[:, 0], gauge_free(levels)[:, 0], atol=1e-9)
