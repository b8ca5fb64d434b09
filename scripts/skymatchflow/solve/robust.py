"""The robust match solve (``match_weights: robust``).

Why: the reference weights every pair by its pixel count squared and trusts
it fully, so one overlap spoiled by an artefact or by emission that the two
sides see differently shifts every image of its island. Here the match
system is solved by iteratively reweighted least squares (IRLS) with a named
robust loss on each pair's residual d_i - d_j - (s_i - s_j):

* the residual is scaled by the pair's noise (its standard error where the
  pair stage measured it, as ``pair_statistic: difference`` does; else
  1/sqrt(mean npix), a relative noise) and by a robust scale of all scaled
  residuals (1.4826 x their median absolute value, at least 1 when the noise
  is absolute, so pairs consistent within their noise keep full weight);
* ``huber`` (c = 1.345) down-weights large residuals as 1/|u|; ``tukey``
  (c = 4.685) drops them (weight 0), starting from the Huber solution as
  usual for a redescending loss.

A pair that disagrees with the rest of its cycles ends with a low weight;
pairs on no cycle (tree edges) always fit exactly and keep weight 1. The
final weights (0..1, relative to the noise weight) are reported per pair.
"""

import numpy as np

from skymatchflow.solve.skymatch import match_deltas

TUNING = {"huber": 1.345, "tukey": 4.685}
#: weights never reach exactly 0, so an island stays connected (its rank unchanged)
MIN_WEIGHT = 1e-6


def _psi_weight(u, loss):
    a = np.abs(u)
    c = TUNING[loss]
    if loss == "huber":
        return np.where(a <= c, 1.0, c / np.maximum(a, 1e-300))
    return np.where(a < c, (1.0 - (a / c) ** 2) ** 2, 0.0)


def pair_noise(equations):
    """(noise per equation, whether it is absolute): measured standard errors, else 1/sqrt(mean npix)."""
    measured = [e.noise for e in equations]
    if equations and all(n is not None and n > 0 for n in measured):
        return np.array(measured, float), True
    npix = np.array([0.5 * (e.npix_i + e.npix_j) for e in equations], float)
    return 1.0 / np.sqrt(npix), False


def robust_deltas(n, equations, loss="huber", max_iter=50, tol=1e-9):
    """(deltas, rank, {"weights": final robust weight per equation, "iterations": k}).

    Same minimum-norm convention per island as the reference's solve.
    """
    if loss not in TUNING:
        raise ValueError(f"robust_loss must be one of {sorted(TUNING)}, not {loss!r}")
    if not equations:
        deltas, rank = match_deltas(n, equations)
        return deltas, rank, {"weights": [], "iterations": 0}
    noise, absolute = pair_noise(equations)
    base = 1.0 / noise**2
    i = np.array([e.i for e in equations])
    j = np.array([e.j for e in equations])
    f = np.array([e.sky_i - e.sky_j for e in equations])
    weights = np.ones(len(equations))
    deltas, rank = match_deltas(n, equations, base)
    iterations = 0
    stages = ["huber", "tukey"] if loss == "tukey" else ["huber"]
    for stage in stages:
        for _ in range(max_iter):
            iterations += 1
            u = (deltas[i] - deltas[j] - f) / noise
            scale = 1.4826 * np.median(np.abs(u))
            scale = max(scale, 1.0) if absolute else max(scale, 1e-12 * max(np.abs(u).max(), 1e-300))
            new = np.maximum(_psi_weight(u / scale, stage), MIN_WEIGHT)
            deltas_new, rank = match_deltas(n, equations, base * new)
            change = np.nanmax(np.abs(deltas_new - deltas)) if np.isfinite(deltas_new).any() else 0.0
            deltas, weights = deltas_new, new
            if change <= tol * max(1.0, np.nanmax(np.abs(deltas))):
                break
    return deltas, rank, {"weights": weights.tolist(), "iterations": iterations}
