"""The plane sky model's solve (issue 27, first step): a level and a tilt per sky group, from pixel-wise differences.

Why: a constant offset per group cannot represent a sky with a ramp
(scattered or zodiacal light), so the overlaps of such exposures disagree
whatever constants are chosen. As Montage's background model does, each
group ``g`` here gets a plane ``s_g(x, y) = a_g + b_g x + c_g y`` in
coordinates ``(x, y)`` on one tangent plane of the whole field (so that the
tilts of different groups are comparable), and the planes are fitted to
every overlap's pixel-wise differences ``d_p = A_p - B_p`` at once:

    minimise  sum over pairs w_ij sum over pixels p (d_p - (theta_i - theta_j) . phi_p)^2,
    phi_p = (1, x_p, y_p),  theta_g = (a_g, b_g, c_g).

A pair enters only through the moments of its pixels (:func:`pair_moments`:
``M = sum phi phi^T`` and ``v = sum d phi``), so the pair stage can reduce
an overlap to 9 numbers and the solve is exactly the least-squares fit over
all the pixels. The normal equations form a block Laplacian of the overlap
graph; the solution is unique up to one plane added to every group of an
island, fixed here as the reference fixes its constants: the island's
planes sum to zero (minimum norm), or a ``fixed`` group keeps the plane 0.
"""

import numpy as np

#: unknowns per group: level, tilt along x, tilt along y
N_TERMS = 3


def pair_moments(x, y, differences):
    """(M, v): the 3x3 moment matrix and 3-vector of one overlap's pixels (positions and A - B values)."""
    phi = np.stack([np.ones_like(np.asarray(x, float)), np.asarray(x, float), np.asarray(y, float)])
    return phi @ phi.T, phi @ np.asarray(differences, float)


def solve_planes(n_groups, pairs, weights=None, fixed=()):
    """Plane coefficients (n_groups x 3) fitted to the pairs' differences.

    ``pairs``: (i, j, M, v) per overlap between groups i and j, with
    differences taken as group i minus group j. ``weights``: one factor per
    pair (robust weights; default 1). ``fixed``: groups whose plane is held
    at 0 (anchors); an island without one has planes summing to 0. A group
    in no pair keeps 0.
    """
    weights = np.ones(len(pairs)) if weights is None else np.asarray(weights, float)
    size = n_groups * N_TERMS
    normal = np.zeros((size, size))
    rhs = np.zeros(size)
    for (i, j, moments, vector), weight in zip(pairs, weights):
        bi, bj = slice(N_TERMS * i, N_TERMS * i + N_TERMS), slice(N_TERMS * j, N_TERMS * j + N_TERMS)
        normal[bi, bi] += weight * moments
        normal[bj, bj] += weight * moments
        normal[bi, bj] -= weight * moments
        normal[bj, bi] -= weight * moments
        rhs[bi] += weight * vector
        rhs[bj] -= weight * vector
    labels = _islands(n_groups, [(i, j) for i, j, _, _ in pairs])
    constraints = []
    for island in np.unique(labels):
        members = np.flatnonzero(labels == island)
        anchors = [g for g in members if g in set(fixed)]
        for term in range(N_TERMS):
            if anchors:
                rows = [[N_TERMS * g + term] for g in anchors]
            else:
                rows = [[N_TERMS * g + term for g in members]]
            for columns in rows:
                row = np.zeros(size)
                row[columns] = 1.0
                constraints.append(row)
    constraints = np.array(constraints)
    # the constrained least-squares system (KKT): exact, and small (3 unknowns per group)
    kkt = np.block([[normal, constraints.T], [constraints, np.zeros((len(constraints), len(constraints)))]])
    solution = np.linalg.lstsq(kkt, np.concatenate([rhs, np.zeros(len(constraints))]), rcond=None)[0]
    return solution[:size].reshape(n_groups, N_TERMS)


def _islands(n_groups, links):
    labels = np.arange(n_groups)

    def root(g):
        while labels[g] != g:
            labels[g] = labels[labels[g]]
            g = labels[g]
        return g

    for i, j in links:
        labels[root(i)] = root(j)
    return np.array([root(g) for g in range(n_groups)])
