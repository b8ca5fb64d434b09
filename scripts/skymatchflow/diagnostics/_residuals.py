"""Figure 3: pair differences before against after the match, with per-island RMS written in."""

import numpy as np

from skymatchflow.diagnostics._footprints import ISLAND_COLOURS
from skymatchflow.diagnostics._plotting import new_figure, note, save_png

MAX_RMS_LINES = 12


def residuals_figure(data, summary, path):
    """Write the before/after scatter of the valid pairs, coloured by island, to ``path``."""
    fig, (ax,) = new_figure(1, width=7.0, height=5.5)
    pairs = data.pairs
    valid = np.asarray(pairs["valid"], bool)
    island_of_group = {row["group"]: int(row["island"]) for row in data.sky}
    islands = np.array([island_of_group[g] for g in pairs["group_a"]], int)[valid]
    before = np.asarray(pairs["difference_before"], float)[valid]
    after = np.asarray(pairs["difference_after"], float)[valid]
    colours = [ISLAND_COLOURS[i % len(ISLAND_COLOURS)] for i in islands]
    ax.scatter(before, after, c=colours, s=12 if len(before) < 2000 else 2, rasterized=True)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.axvline(0.0, color="0.6", linewidth=0.8)
    ax.set_xlabel(data.value_label("pair difference a - b before"))
    ax.set_ylabel(data.value_label("pair difference a - b after"))
    ax.set_title(f"Pair differences, {int(valid.sum())} valid pairs")
    if before.size:
        span = float(np.nanmax(np.abs(np.concatenate([before, after])))) or 1.0
        ax.set_xlim(-1.1 * span, 1.1 * span)
        ax.set_ylim(-1.1 * span, 1.1 * span)
    else:
        note(ax, "no valid pair: nothing was matched")
    lines = ["island  pairs  RMS before  RMS after"]
    for row in summary[:MAX_RMS_LINES] if len(summary) - 1 > MAX_RMS_LINES else summary:
        lines.append(f"{row['island']:>6s} {row['n_pairs']:6d}  {row['rms_before']:10.3g} {row['rms_after']:10.3g}")
    if len(summary) - 1 > MAX_RMS_LINES:
        total = summary[-1]
        lines.append(f"... {len(summary) - 1} islands (all in results/summary.ecsv)")
        lines.append(f"{total['island']:>6s} {total['n_pairs']:6d}  {total['rms_before']:10.3g} {total['rms_after']:10.3g}")
    ax.text(0.02, 0.98, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", family="monospace",
            fontsize="small", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    save_png(fig, path)
