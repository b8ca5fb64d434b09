"""The solve stage: sky values from whole-image and per-pair statistics.

Follows stcal's ``skymatch()`` step by step (match stage, then global or
local stage) on "elements" (sky groups in order of first appearance), with
one deliberate difference: an element without a whole-image sky never
raises the reference's order-dependent TypeError in 'global' (it is skipped
wherever it comes; see README).

The match system is the reference's weighted least-squares problem
(one equation per valid pair, row weight = mean npix of the two sides) and
its minimum-norm solution, computed with sparse linear algebra per connected
component: the Laplacian is solved with one element held at 0 and the
component's mean is then removed, which is exactly the minimum-norm
solution because the null space of the system is spanned by the component
indicator vectors.
"""

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

log = logging.getLogger(__name__)
# per-image lines go to the job's log only, not to the console (jobs/rulerunner's console filter)
LOG_ONLY = {"log_only": True}


@dataclass
class Equation:
    """One valid pair between elements i < j: side skies and npix weights."""

    i: int
    j: int
    sky_i: float
    sky_j: float
    npix_i: int
    npix_j: int
    noise: float | None = None  # standard error of sky_i - sky_j, where the pair stage measured it
    pair: str | None = None  # the pair's name, to report its robust weight


@dataclass
class Element:
    """A sky group: its members share every sky change."""

    group: str
    members: list
    initial: dict = field(default_factory=dict)  # member -> sky at the start
    sky: dict = field(default_factory=dict)  # member -> current sky
    valid: bool = False

    def __post_init__(self):
        for member in self.members:
            self.initial.setdefault(member, 0.0)
        self.sky = dict(self.initial)


def islands(n, equations):
    """Connected component label of each element (isolated elements alone)."""
    if not equations:
        return np.arange(n)
    rows = [e.i for e in equations]
    cols = [e.j for e in equations]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def match_deltas(n, equations, weights=None):
    """Minimum-norm least-squares deltas; NaN for elements in no equation.

    Objective: sum over equations of Wm^2 (d_i - d_j - (s_i - s_j))^2 with
    Wm = (npix_i + npix_j) / 2, as the reference's row-weighted system, or
    with the given per-equation ``weights`` in place of Wm^2 (robust solve).
    """
    deltas = np.full(n, np.nan)
    if not equations:
        return deltas, 0
    i = np.array([e.i for e in equations])
    j = np.array([e.j for e in equations])
    wm = 0.5 * (np.array([e.npix_i for e in equations], float) + np.array([e.npix_j for e in equations], float))
    f = np.array([e.sky_i - e.sky_j for e in equations])
    w2 = wm * wm if weights is None else np.asarray(weights, float)
    # Normal equations L d = b, L = K^T K (a weighted graph Laplacian).
    rows = np.concatenate([i, j, i, j])
    cols = np.concatenate([i, j, j, i])
    vals = np.concatenate([w2, w2, -w2, -w2])
    laplacian = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    rhs = np.zeros(n)
    np.add.at(rhs, i, w2 * f)
    np.add.at(rhs, j, -w2 * f)
    labels = islands(n, equations)
    used = np.zeros(n, bool)
    used[i] = used[j] = True
    rank = 0
    for label in np.unique(labels[used]):
        nodes = np.flatnonzero(labels == label)
        rank += nodes.size - 1
        if nodes.size == 1:
            continue
        free = nodes[1:]
        sub = laplacian[free][:, free]
        solution = np.zeros(nodes.size)
        # the held-out Laplacian is symmetric positive definite: a symmetric
        # fill-reducing ordering (MMD on A+A^T) is ~5x faster than COLAMD here
        if free.size > 1:
            solution[1:] = spsolve(sub.tocsc(), rhs[free], permc_spec="MMD_AT_PLUS_A")
        else:
            solution[1:] = rhs[free] / sub.toarray()[0, 0]
        deltas[nodes] = solution - solution.mean()
    return deltas, rank


def _warn_rank(n, rank):
    if rank < n - 1:
        log.warning(f"There are more unknown sky values ({n}) to be solved for")
        log.warning(f"than there are independent equations available (matrix rank={rank}).")
        log.warning("Sky matching (delta) values will be computed only for")
        log.warning("a subset (or more independent subsets) of input images.")


def _apply(elements, deltas, do_global, show_old):
    """The reference's _apply_sky on our elements, with its log lines (no pixels touched)."""
    for element, delta in zip(elements, deltas):
        is_group = len(element.members) > 1
        if do_global:
            if delta is None:
                valid = element.valid
                delta = 0.0
            else:
                valid = True
        else:
            valid = delta is not None
            if not valid:
                kind = "Group" if is_group else "Image"
                log.warning(f"   *  {kind} ID={element.group}: Unable to compute sky value")
                delta = 0.0
        if is_group:
            log.info(f"   *  Group ID={element.group}. Sky background of component images:", extra=LOG_ONLY)
        for member in element.members:
            old = element.sky[member]
            element.sky[member] = old + delta
            prefix = "      - Image ID" if is_group else "   *  Image ID"
            line = f"{prefix}={member}. Sky background: {element.sky[member]:G}"
            log.info(line + (f" (old={old:G}, delta={delta:G})" if show_old else ""), extra=LOG_ONLY)
        element.valid = valid


def skymatch(elements, equations, whole_image_skies, skymethod, match_down, subtract, solver=None, shift=None):
    """Run the reference's two stages on ``elements`` in place; return a summary.

    ``whole_image_skies``: image -> whole-image statistic of its good pixels
    (None when it has none). Returns per element the match change
    ("delta_match") and the global/local change ("stage2"), None where the
    stage did not run or had no value, plus the global value, the islands and
    the rank of the match system. Opt-in replacements (None: the reference's):
    ``solver(n, equations) -> (deltas, rank, extra)`` for the match system,
    ``shift(deltas, islands) -> deltas`` for the choice of the zero point.
    """
    do_match = "match" in skymethod
    do_global = "global" in skymethod
    show_old = subtract
    n = len(elements)
    log.info(f"Sky computation method: '{skymethod}'")
    if do_match:
        log.info("Sky matching direction: {:s}".format("DOWN" if match_down else "UP"))
    log.info("Sky subtraction from image data: {:s}".format("ON" if subtract else "OFF"))
    summary = {
        "delta_match": [None] * n,
        "stage2": [None] * n,
        "global": None,
        "islands": islands(n, equations),
        "rank": None,
    }
    if do_match:
        log.info(" ")
        log.info("----  Computing differences in sky values in overlapping regions.")
        if solver is None:
            deltas, rank = match_deltas(n, equations)
        else:
            deltas, rank, summary["solver"] = solver(n, equations)
        summary["rank"] = rank
        _warn_rank(n, rank)
        good = np.isfinite(deltas)
        if shift is not None:
            deltas = shift(deltas, summary["islands"])
        elif good.any():
            deltas[good] -= deltas[good].min() if match_down else deltas[good].max()
        delta_list = [float(d) if np.isfinite(d) else None for d in deltas]
        summary["delta_match"] = delta_list
        _apply(elements, delta_list, False, show_old)
        show_old = True
    if do_global or not do_match:
        log.info(" ")
        if do_global:
            log.info('----  Computing "global" sky - smallest sky value across *all* input images.')
        else:
            log.info("----  Sky values computed per image and/or image groups.")
        values = []
        for element in elements:
            # calc_sky(delta = not subtract): relative to the sky so far. With
            # subtract the data were already lowered by the match deltas, which
            # is the same subtraction of what was added since the start.
            member_values = [
                whole_image_skies[m] - _added(element, m, subtract)
                for m in element.members
                if whole_image_skies[m] is not None
            ]
            values.append(min(member_values) if member_values else None)
        if do_global:
            finite = [v for v in values if v is not None]
            minsky = min(finite) if finite else None
            if minsky is None:
                log.warning('   Unable to compute "global" sky value')
            summary["global"] = minsky
            log.info(" ")
            log.info(f'   "Global" sky value correction: {minsky} [not converted]')
            values = [minsky] * n
        if do_match:
            log.info(" ")
            log.info("----  Final (match+global) sky for:")
        summary["stage2"] = list(values)
        _apply(elements, values, do_global, show_old)
    return summary


def _added(element, member, subtract):
    """What the statistic is relative to: the sky so far (or, with subtract, what was removed)."""
    return element.sky[member] - element.initial[member] if subtract else element.sky[member]
