"""Which images stand alone: islands of the overlap graph and their sizes, from the sky table."""

import numpy as np


def island_groups(sky):
    """{island: number of sky groups on it} (island -1: no match stage)."""
    groups = {}
    for row in sky:
        groups.setdefault(int(row["island"]), set()).add(row["group"])
    return {island: len(members) for island, members in groups.items()}


def isolated_images(sky):
    """Bool per sky-table row: its group has no valid pair (an island of one group, or no match stage)."""
    sizes = island_groups(sky)
    return np.array([sizes[int(row["island"])] == 1 or int(row["island"]) < 0 for row in sky])


def skipped_images(sky):
    """Bool per sky-table row: the solve gave it no sky (status SKIPPED)."""
    return np.array([str(status) == "SKIPPED" for status in sky["status"]], bool)
