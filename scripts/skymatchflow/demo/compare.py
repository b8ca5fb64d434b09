"""Recovered against injected sky for the demo mosaic.

The injected truth is absolute; 'match' recovers skies only up to one common
offset, so the table also shows both after removing their means.
"""

import numpy as np
from astropy.table import Table, join


def compare_with_truth(sky_table, truth_table):
    """One row per demo image: injected, recovered, and their (mean-free) difference."""
    sky = Table(sky_table, copy=True)
    sky["file_name"] = [str(f).rsplit("/", 1)[-1] for f in sky["file"]]
    truth = Table(truth_table, copy=True)
    truth.rename_column("file", "file_name")
    both = join(sky["image", "file_name", "sky", "status"], truth["file_name", "sky_injected"], keys="file_name")
    both.sort("image")
    both["difference"] = both["sky"] - both["sky_injected"]
    both["difference_mean_free"] = both["difference"] - np.mean(both["difference"])
    both.remove_column("file_name")
    return both


def format_comparison(table):
    """The comparison as printable lines."""
    lines = [f"{'image':40s} {'injected':>10s} {'recovered':>10s} {'diff':>10s} {'diff-mean':>10s} status"]
    for row in table:
        lines.append(
            f"{row['image']:40s} {row['sky_injected']:10.5f} {row['sky']:10.5f} "
            f"{row['difference']:10.5f} {row['difference_mean_free']:10.5f} {row['status']}"
        )
    spread = np.std(table["difference_mean_free"])
    lines.append(f"rms of mean-free differences: {spread:.5f} (the scene and the statistic's bias set the floor)")
    return lines
