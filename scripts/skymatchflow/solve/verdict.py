"""The verdict on a match: are the overlaps consistent with their noise, and if not, what to try.

Why: the closure figures (solve.consistency) are in data units, and a
failing match still reads as an improvement in the RMS of the pair
differences (the solve fits the pairs it was given). The verdict puts the
closure residuals in units of each pair's noise (the pair table's ``noise``
column): ``chi2_dof`` is about 1 when the pairs agree within their noise.
The match is called consistent when ``chi2_dof`` is at most
:func:`chi2_limit` (3, or the 99.9 % point of chi-square for few cycles):
the noise model (stats._statnoise) is good to some 15 %, and clean
synthetic fields give 0.7-1.7 with every statistic, failing ones 4 to 200.
Where it is not, the advice names the documented option that addresses
the likeliest cause, given the options already in use.
"""

import numpy as np

CHI2_LIMIT = 3.0
#: chi-square tail probability below which few cycles are called inconsistent
TAIL = 1e-3
#: from this many cycles on, chi-square's 1 - TAIL quantile / cycles is below CHI2_LIMIT (and falls with more)
FEW_CYCLES = 10

ADVICE = {
    "reference": "try `pair_statistic: difference` (the two sides of an overlap see different pixels or emission)",
    "difference": "try `match_weights: robust`, or `exclude` the region around the worst pair",
    "robust": "look at the worst pair: `exclude` an artefact there, or `groups: none` if the members of a "
              "sky group do not share one sky",
    "widespread": "most pairs disagree, not a few, so robust weights cannot tell which to trust: the sky is "
                  "not one constant per sky group (a gradient across the images: try `sky_model: plane`; or "
                  "members of a group that do not share one sky: try `groups: none`)",
    "widespread_plane": "most pairs disagree, not a few, even with a plane per sky group: the sky is more than a "
                        "plane, or members of a group do not share one sky (try `groups: none`)",
}
#: the disagreement is everywhere when the median pair's closure residual exceeds this many times its noise
OFF = 3.0


def chi2_limit(n_cycles):
    """The largest chi2_dof called consistent with the noise for ``n_cycles`` independent cycles."""
    if n_cycles >= FEW_CYCLES:  # the quantile / k is below CHI2_LIMIT: scipy.special's import (~0.3 s) not needed
        return CHI2_LIMIT
    # chi-square's quantile as scipy.stats.chi2.ppf computes it (2 gammaincinv(k/2, q)), the same bits:
    # scipy.stats itself costs the solve about a second of imports
    from scipy.special import gammaincinv

    return max(CHI2_LIMIT, float(2 * gammaincinv(n_cycles / 2, 1.0 - TAIL)) / n_cycles)


def residuals_in_noise(pairs):
    """Each valid pair's closure residual / its noise (finite values only)."""
    if not len(pairs) or "noise" not in pairs.colnames:
        return np.zeros(0)
    z = np.asarray(pairs["difference_after"], float) / np.asarray(pairs["noise"], float)
    return z[np.asarray(pairs["valid"], bool) & np.isfinite(z)]


def advice(pairs, pair_statistic, match_weights, sky_model="constant"):
    """Which documented option to try next, given those in use and how the disagreement is spread."""
    if pair_statistic != "difference":
        return ADVICE["reference"]
    z = residuals_in_noise(pairs)
    if z.size and np.median(np.abs(z)) > OFF:  # least squares spreads one bad pair over its cycles, not this far
        return ADVICE["widespread_plane" if sky_model == "plane" else "widespread"]
    return ADVICE["robust" if match_weights == "robust" else "difference"]


def worst_in_noise(pairs):
    """(pair, closure residual / noise) of the valid pair farthest from the solution in noise units, or ('', NaN)."""
    if not len(pairs) or "noise" not in pairs.colnames:
        return "", np.nan
    z = np.asarray(pairs["difference_after"], float) / np.asarray(pairs["noise"], float)
    usable = np.asarray(pairs["valid"], bool) & np.isfinite(z)
    if not usable.any():
        return "", np.nan
    k = int(np.argmax(np.where(usable, np.abs(z), -1.0)))
    return str(pairs["pair"][k]), float(z[k])


def judge(figure, pairs, pair_statistic="reference", match_weights="reference", sky_model="constant"):
    """(consistent: True, False or None, one line) for one island's or the total's consistency figures.

    ``pairs``: that island's valid pair rows (with ``noise``); the
    option values say which advice is left to give.
    """
    n_cycles, chi2_dof = figure["n_cycles"], figure["chi2_dof"]
    if not n_cycles:
        return None, ("Match verdict: cannot be judged: the overlap graph has no cycle of pairs "
                      "(a tree fits any pair differences exactly)")
    if not np.isfinite(chi2_dof):
        return None, "Match verdict: cannot be judged: some pairs have no measured noise"
    limit = chi2_limit(n_cycles)
    pair, z = worst_in_noise(pairs)
    figures = (f"chi2/dof {chi2_dof:.3g} over {n_cycles} cycle(s) (limit {limit:.3g}): pairs disagree around "
               f"cycles by {np.sqrt(chi2_dof):.3g} x their noise (RMS), worst {pair} by {z:+.3g} x its noise")
    if chi2_dof <= limit:
        return True, f"Match verdict: consistent with the noise: {figures}"
    to_try = advice(pairs, pair_statistic, match_weights, sky_model)
    return False, f"Match verdict: NOT consistent with the noise: {figures}; {to_try}"


def verdicts(sky, pairs, figures, pair_statistic="reference", match_weights="reference", sky_model="constant"):
    """{island: (consistent, line)} for every island of ``figures`` (consistency.graph_consistency) and 'total'."""
    from skymatchflow.solve.consistency import island_pairs

    rows = island_pairs(sky, pairs)
    return {island: judge(figure, rows[island], pair_statistic, match_weights, sky_model)
            for island, figure in figures.items()}
