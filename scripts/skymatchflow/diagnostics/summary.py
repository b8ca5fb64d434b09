"""The summary table (``results/summary.ecsv``): per island, pairs and RMS of pair differences before and after.

A pair belongs to the island of its first group (a valid pair joins its two
groups, so both are on one island). Totals are the last row, island "total".
"""

import numpy as np
from astropy.table import Table

from skymatchflow.diagnostics.islands import skipped_images


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
    table["island"].description = "island of the overlap graph (-1: no match stage); 'total': every image"
    table["n_pairs"].description = "valid pairs (each one equation of the match)"
    table["rms_before"].description = "RMS of the valid pairs' differences a - b before the match (NaN: no pair)"
    table["rms_after"].description = "RMS of the same differences after the solved sky changes"
    return table
