"""Which images stand alone: islands of the overlap graph and their sizes, from the sky table.

Read column-wise (a row of an astropy table costs microseconds per field: at
thousands of images the row loops were tens of milliseconds per figure).
"""

import numpy as np


def island_groups(sky):
    """{island: number of sky groups on it} (island -1: no match stage)."""
    groups = {}
    for island, group in zip(np.asarray(sky["island"], int).tolist(), list(sky["group"])):
        groups.setdefault(island, set()).add(group)
    return {island: len(members) for island, members in groups.items()}


def isolated_images(sky):
    """Bool per sky-table row: its group has no valid pair (an island of one group, or no match stage)."""
    sizes = island_groups(sky)
    return np.array([sizes[island] == 1 or island < 0 for island in np.asarray(sky["island"], int).tolist()])


def skipped_images(sky):
    """Bool per sky-table row: the solve gave it no sky (status SKIPPED)."""
    return np.array([str(status) == "SKIPPED" for status in sky["status"]], bool)
