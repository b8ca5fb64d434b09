"""How consistent the overlap graph is: closure of its cycles after the solve.

Why: the match solve fits one sky change per group to every pair's measured
difference. On a tree of pairs it fits them exactly, whatever they are
worth; each independent cycle of the graph (a pair more than a tree needs)
is a check. After the solve, a pair's ``difference_after`` (measured
difference minus solved change) is its closure residual; summed over an
island they tell how well its pairs agree with each other:

* ``n_cycles``: valid pairs - groups + 1 per island, the degrees of freedom
  of its match system (0: a tree, nothing can be checked);
* ``closure_rms``: sqrt(sum of squared closure residuals / n_cycles), in data
  units; the typical disagreement of a pair with the rest of its cycles;
* ``chi2_dof``: sum of (residual / pair noise)^2 / n_cycles, with each
  pair's noise from the pair stage (stats._statnoise); about 1 for a graph
  consistent within its noise, much more when some pairs are biased (the
  verdict, solve.verdict, is read from it);
* ``worst_pair`` and ``worst_closure``: the pair with the largest |residual|.

Computed from the pair table and the sky table's islands, so the solve log
and the diagnostics summary give the same figures.
"""

import numpy as np

COLUMNS = ("n_cycles", "closure_rms", "chi2_dof", "worst_pair", "worst_closure")


def _island_figures(pairs, n_groups):
    """(n_cycles, closure_rms, chi2_dof, worst_pair, worst_closure) of one island's valid pair rows."""
    residual = np.asarray(pairs["difference_after"], float)
    finite = np.isfinite(residual)
    n_pairs = int(finite.sum())
    n_cycles = max(n_pairs - n_groups + 1, 0) if n_pairs else 0
    if not n_pairs:
        return 0, np.nan, np.nan, "", np.nan
    worst = int(np.argmax(np.where(finite, np.abs(residual), -1.0)))
    worst_pair, worst_closure = str(pairs["pair"][worst]), float(residual[worst])
    if not n_cycles:
        return 0, np.nan, np.nan, worst_pair, worst_closure
    closure_rms = float(np.sqrt(np.sum(residual[finite] ** 2) / n_cycles))
    chi2_dof = np.nan
    if "noise" in pairs.colnames:
        noise = np.asarray(pairs["noise"], float)[finite]
        if np.all(np.isfinite(noise) & (noise > 0)):
            chi2_dof = float(np.sum((residual[finite] / noise) ** 2) / n_cycles)
    return n_cycles, closure_rms, chi2_dof, worst_pair, worst_closure


def island_pairs(sky, pairs):
    """{island: its valid pair rows} for every island >= 0 of the sky table, and 'total': all of them."""
    island_of_group = {str(row["group"]): int(row["island"]) for row in sky}
    valid = np.asarray(pairs["valid"], bool) if len(pairs) else np.zeros(0, bool)
    pair_island = np.array([island_of_group.get(str(g), -1) for g in pairs["group_a"]], int)
    out = {str(i): pairs[valid & (pair_island == i)] for i in sorted(set(island_of_group.values())) if i >= 0}
    out["total"] = pairs[valid & (pair_island >= 0)]
    return out


def graph_consistency(sky, pairs):
    """{island: {column: value}} for every island >= 0 of the sky table, and 'total'.

    ``sky``: the sky table (group, island); ``pairs``: the pair table. The
    total's n_cycles is the sum over islands; its closure_rms and chi2_dof
    pool every island's residuals; its worst pair is the worst of all.
    """
    groups = {}
    for row in sky:
        groups.setdefault(int(row["island"]), set()).add(str(row["group"]))
    by_island = island_pairs(sky, pairs)
    out = {}
    for island in sorted(i for i in groups if i >= 0):
        out[str(island)] = dict(zip(COLUMNS, _island_figures(by_island[str(island)], len(groups[island]))))
    rows = by_island["total"]
    total = dict(zip(COLUMNS, _island_figures(rows, 0)))  # n_groups set below: one tree per island
    n_cycles = sum(v["n_cycles"] for v in out.values())
    total["n_cycles"] = n_cycles
    residual = np.asarray(rows["difference_after"], float)
    residual = residual[np.isfinite(residual)]
    total["closure_rms"] = float(np.sqrt(np.sum(residual**2) / n_cycles)) if n_cycles else np.nan
    chi2 = [v["chi2_dof"] * v["n_cycles"] for v in out.values() if v["n_cycles"]]
    total["chi2_dof"] = (float(np.sum(chi2) / n_cycles)
                         if n_cycles and chi2 and np.all(np.isfinite(chi2)) else np.nan)
    out["total"] = total
    return out


def consistency_line(figures):
    """One log line: the graph's cycles and closure, and its worst pair."""
    total = figures["total"]
    if not total["n_cycles"]:
        return "Overlap graph consistency: no cycle of pairs (every island is a tree): nothing to check"
    chi2 = f", chi2/dof {total['chi2_dof']:.3g}" if np.isfinite(total["chi2_dof"]) else ""
    worst = max((v for k, v in figures.items() if k != "total" and v["n_cycles"]),
                key=lambda v: v["closure_rms"])
    island = next(k for k, v in figures.items() if v is worst)
    return (f"Overlap graph consistency: {total['n_cycles']} independent cycle(s); closure RMS "
            f"{total['closure_rms']:.4g}{chi2}; worst pair {total['worst_pair']} "
            f"({total['worst_closure']:+.4g}); least consistent island {island} "
            f"(closure RMS {worst['closure_rms']:.4g})")
