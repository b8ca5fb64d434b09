"""Figure 2: the overlap graph on the footprint map, before and after the match.

Each valid pair is an edge between its two sky groups' centres, coloured by
its difference (one diverging scale for both panels). Pairs without a value
are dotted grey lines, with a legend of their reasons. All edges go into one
LineCollection per kind; above ``MAX_EDGES`` only the edges with the largest
difference before are drawn, and the title says how many. Above
``COLOURED_EDGES`` (hundreds of images) the rest are thin grey lines (the
graph's shape) under each panel's ``COLOURED_EDGES`` largest differences in
colour (before: what the match has to remove; after: what it left): 667 coloured edges of a long strip are a smear where nothing stands
out. Centre dots shrink with the number of groups.
"""

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D

from skymatchflow.diagnostics._footprints import polygons
from skymatchflow.diagnostics._plotting import colour_bar, new_map_figure, note, save_png, setup_map_axes

MAX_EDGES = 20_000
COLOURED_EDGES = 200  # above this many valid edges, only the largest differences before are coloured
MANY = 2_000  # above this many images or groups, thinner lines and no centre dots (they would hide the edges)
REASON_STYLES = [("0.45", ":"), ("tab:orange", ":"), ("tab:purple", ":"), ("tab:brown", ":")]


def edge_segments(data, pairs):
    """(n, 2, 2) array: for each pair row, its two group centres in the plotted unit."""
    factor, _ = data.unit()
    centres = data.group_centres
    segments = [(centres[a], centres[b]) for a, b in zip(pairs["group_a"], pairs["group_b"])]
    return np.asarray(segments, float).reshape(-1, 2, 2) * factor


def thinned(values, limit=MAX_EDGES):
    """Indices of the at most ``limit`` largest |values|, in ascending order of |value| (largest drawn last)."""
    order = np.argsort(np.abs(values), kind="stable")
    return order[-limit:] if len(order) > limit else order


def coloured(keep, values, limit=COLOURED_EDGES):
    """(coloured, grey): the at most ``limit`` edges of ``keep`` with the largest |values|, and the rest."""
    if len(keep) <= limit:
        return keep, keep[:0]
    order = keep[np.argsort(np.abs(values[keep]), kind="stable")]  # NaN sorts last: coloured (black)
    return order[-limit:], order[:-limit]


def edge_width(n_edges):
    """Line width for ``n_edges`` edges: thick for a few, thin enough at hundreds that they stay apart."""
    return float(np.clip(2.0 * np.sqrt(100.0 / max(n_edges, 1)), 0.3, 2.0))


def draw_graph(ax, data, column, norm, keep):
    """One panel: grey footprints, invalid pairs by reason, the valid edges ``keep`` coloured by ``column``."""
    factor, unit = data.unit()
    many = len(data.sky) > MANY
    ax.add_collection(PolyCollection(polygons(data), facecolors="0.93", edgecolors="0.7",
                                     linewidths=0.0 if many else 0.4, rasterized=True))
    pairs = data.pairs
    valid = np.asarray(pairs["valid"], bool)
    handles = []
    reasons = sorted({str(r) or "no value" for r in pairs["reason"][~valid]})
    for k, reason in enumerate(reasons):
        rows = pairs[~valid][[(str(r) or "no value") == reason for r in pairs["reason"][~valid]]]
        colour, style = REASON_STYLES[k % len(REASON_STYLES)]
        ax.add_collection(LineCollection(edge_segments(data, rows), colors=colour, linestyles=style, linewidths=1.0,
                                         rasterized=True))
        handles.append(Line2D([], [], color=colour, linestyle=style, label=f"no value: {reason} ({len(rows)})"))
    values = np.asarray(pairs[column], float)[valid]
    segments = edge_segments(data, pairs[valid])
    keep, grey = coloured(keep, values)  # the panel's own largest: before, what to match; after, what is left
    if len(grey):
        ax.add_collection(LineCollection(segments[grey], colors="0.6", linewidths=0.3, rasterized=True))
    cmap = matplotlib.colormaps["coolwarm"].with_extremes(bad="black")  # NaN: black, never a scale colour
    edges = LineCollection(segments[keep], array=np.ma.masked_invalid(values[keep]), cmap=cmap, norm=norm,
                           linewidths=edge_width(len(keep)), rasterized=True)
    ax.add_collection(edges)
    if len(keep) and len(data.group_centres) <= MANY:
        centres = np.array(list(data.group_centres.values())) * factor
        size = float(np.clip(600.0 / len(centres), 0.5, 6.0))  # dots that do not hide the edges at hundreds
        ax.scatter(centres[:, 0], centres[:, 1], s=size, color="black", zorder=3, rasterized=True)
    x0, x1, y0, y1 = data.bounds
    setup_map_axes(ax, (x0 * factor, x1 * factor, y0 * factor, y1 * factor))
    ax.set_xlabel(f"east offset [{unit}] (east to the left)")
    ax.set_ylabel(f"north offset [{unit}]")
    colour_bar(edges, ax, data.value_label("pair difference a - b"))
    if len(grey):
        ax.set_title(f"{ax.get_title()}\n{len(keep)} of {len(values)} edges coloured (the largest here), "
                     f"{len(grey)} thin grey", fontsize="small")
    elif len(values) > len(keep):
        ax.set_title(f"{ax.get_title()}\n{len(keep)} of {len(values)} edges drawn (largest before)", fontsize="small")
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize="small", framealpha=0.8)
    if not len(pairs):
        note(ax, "no pairs: this skymethod has no match stage")


def overlap_graph_map(data, path):
    """Write the overlap graph, difference before and after the match, to ``path``."""
    x0, x1, y0, y1 = data.bounds
    fig, (before, after) = new_map_figure(x1 - x0, y1 - y0, 2)
    valid = np.asarray(data.pairs["valid"], bool)
    values = np.asarray(data.pairs["difference_before"], float)[valid]
    # the scale ends at the 98th percentile of |difference before|: one outlier does not wash out the rest
    top = float(np.nanpercentile(np.abs(values), 98)) if np.isfinite(values).any() else 1.0
    norm = mcolors.Normalize(-(top or 1.0), top or 1.0)
    before.set_title(f"Overlap graph: difference before ({int(valid.sum())} valid pairs)")
    after.set_title("Difference after the match (same scale)")
    keep = thinned(values)
    draw_graph(before, data, "difference_before", norm, keep)
    draw_graph(after, data, "difference_after", norm, keep)
    save_png(fig, path)
