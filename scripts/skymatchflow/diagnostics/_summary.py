"""The summary table (``results/summary.ecsv``): per island, pairs and RMS of pair differences before and after.

With them, the closure figures and the verdict on the match (solve.verdict);
the total's verdict line is also the table's meta ``verdict``.

A pair belongs to the island of its first group (a valid pair joins its two
groups, so both are on one island). Totals are the last row, island "total".
"""

import numpy as np
from astropy.table import Table

from skymatchflow.diagnostics._islands import skipped_images
from skymatchflow.solve.consistency import COLUMNS, graph_consistency
from skymatchflow.solve.verdict import verdicts


def rms(values):
    """Root mean square of the finite values (NaN when there is none)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.sqrt(np.mean(values**2))) if values.size else np.nan


def _row(name, sky_rows, pair_rows):
    valid = np.asarray(pair_rows["valid"], bool)
    return (
        name, len(sky_rows), len(set(sky_rows["group"])), int(skipped_images(sky_rows).sum()),
        int(valid.sum()), int((~valid).sum()),
        rms(np.asarray(pair_rows["difference_before"], float)[valid]),
        rms(np.asarray(pair_rows["difference_after"], float)[valid]),
    )


def summary_table(sky, pairs):
    """One row per island of the sky table (in island order), then the totals."""
    island_of_group = {row["group"]: int(row["island"]) for row in sky}
    pair_island = np.array([island_of_group[g] for g in pairs["group_a"]], int)
    sky_island = np.asarray(sky["island"], int)
    rows = [_row(str(i), sky[sky_island == i], pairs[pair_island == i]) for i in sorted(set(sky_island))]
    rows.append(_row("total", sky, pairs))
    names = ("island", "n_images", "n_groups", "n_skipped", "n_pairs", "n_pairs_without_value",
             "rms_before", "rms_after")
    table = Table(rows=rows, names=names, dtype=(str, int, int, int, int, int, float, float))
    figures = graph_consistency(sky, pairs)
    _add_consistency(table, figures)
    config = pairs.meta.get("config") or {}
    matched = "match" in config.get("skymethod", "match")
    _add_verdicts(table, verdicts(sky, pairs, figures, *_options(config)) if matched else {})
    table["island"].description = "island of the overlap graph (-1: no match stage); 'total': every image"
    table["n_pairs"].description = "valid pairs (each one equation of the match)"
    table["rms_before"].description = "RMS of the valid pairs' differences a - b before the match (NaN: no pair)"
    table["rms_after"].description = "RMS of the same differences after the solved sky changes"
    return table


def _add_consistency(table, figures):
    """The overlap graph's consistency per island (consistency.graph_consistency); island -1 has none."""
    empty = {"n_cycles": 0, "closure_rms": np.nan, "chi2_dof": np.nan, "worst_pair": "", "worst_closure": np.nan}
    for name, dtype in zip(COLUMNS, (int, float, float, str, float)):
        table[name] = np.array([figures.get(str(i), empty)[name] for i in table["island"]], dtype=dtype)
    table["n_cycles"].description = "independent cycles of valid pairs (pairs - groups + 1): the checks the graph holds"
    table["closure_rms"].description = "sqrt(sum of difference_after^2 / n_cycles): how far pairs disagree around cycles"
    table["chi2_dof"].description = "sum of (difference_after / noise)^2 / n_cycles (noise: the pair table's)"
    table["worst_pair"].description = "the pair with the largest |difference_after|"
    table["worst_closure"].description = "its difference_after"


def _options(config):
    """(pair_statistic, match_weights, sky_model) the run used, from the config the solve recorded."""
    return (config.get("pair_statistic", "reference"), config.get("match_weights", "reference"),
            config.get("sky_model", "constant"))


def _add_verdicts(table, judged):
    """Per island, whether its pairs agree within their noise ('yes', 'no', '' when it cannot be judged), and why."""
    none = (None, "")
    table["consistent"] = [{True: "yes", False: "no", None: ""}[judged.get(str(i), none)[0]] for i in table["island"]]
    table["verdict"] = [judged.get(str(i), none)[1] for i in table["island"]]
    table["consistent"].description = "closure residuals within the pairs' noise: chi2_dof <= its limit (see verdict)"
    table["verdict"].description = "the verdict on the match in units of the pair noise, and what to try if it fails"
    table.meta["verdict"] = table["verdict"][-1]
