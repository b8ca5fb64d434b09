"""Figure 1: the footprint map, each image filled by its fitted sky and by its group's match change.

One PolyCollection per panel (rasterised), so 10,000 images cost one
artist each, not 10,000. Edges carry the island (one colour per island);
SKIPPED images are hatched grey, isolated images dashed.
"""

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.lines import Line2D

from skymatchflow.diagnostics._islands import isolated_images, skipped_images
from skymatchflow.diagnostics._plotting import colour_bar, new_map_figure, save_png, setup_map_axes

ISLAND_COLOURS = [mcolors.to_rgba(c) for c in ("black", "tab:red", "tab:blue", "tab:green", "tab:purple",
                                               "tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")]
MAX_ISLAND_LEGEND = 8
NO_VALUE_COLOUR = "#f4a6c6"  # pink: an image without a value (NaN), never a colour of the scale


def polygons(data):
    """Outlines of the sky table's images, in its row order, in the plotted unit."""
    factor, _ = data.unit()
    return [np.column_stack(data.outlines[image]) * factor for image in data.sky["image"]]


def island_edge_colours(sky):
    """One edge colour per row: its island's (cycling); no match stage: black."""
    return [ISLAND_COLOURS[int(i) % len(ISLAND_COLOURS)] if int(i) >= 0 else ISLAND_COLOURS[0] for i in sky["island"]]


def draw_footprints(ax, data, values, label, cmap="viridis", norm=None):
    """Fill each footprint by ``values`` (NaN: grey), edges by island; returns the collection."""
    verts = polygons(data)
    skipped, isolated = skipped_images(data.sky), isolated_images(data.sky)
    values = np.asarray(values, float)
    collection = PolyCollection(
        verts, array=np.ma.masked_invalid(values), cmap=matplotlib.colormaps[cmap].with_extremes(bad=NO_VALUE_COLOUR), norm=norm,
        edgecolors=island_edge_colours(data.sky), linewidths=0.8 if len(verts) < 2000 else 0.3, alpha=0.8,
        rasterized=True,
    )
    collection.set_linestyles(["--" if iso else "-" for iso in isolated])
    ax.add_collection(collection)
    if skipped.any():
        ax.add_collection(PolyCollection([v for v, s in zip(verts, skipped) if s], facecolors="none",
                                         edgecolors="0.3", hatch="xx", linewidths=0.5, rasterized=True))
    factor, unit = data.unit()
    x0, x1, y0, y1 = data.bounds
    setup_map_axes(ax, (x0 * factor, x1 * factor, y0 * factor, y1 * factor))
    ax.set_xlabel(f"east offset [{unit}] (east to the left)")
    ax.set_ylabel(f"north offset [{unit}]")
    colour_bar(collection, ax, data.value_label(label))
    return collection


def legend_handles(sky):
    """Legend entries: islands (a few), isolated and SKIPPED images when there are any."""
    islands = sorted({int(i) for i in sky["island"] if int(i) >= 0})
    handles = [Line2D([], [], color=ISLAND_COLOURS[i % len(ISLAND_COLOURS)], label=f"island {i}")
               for i in islands[:MAX_ISLAND_LEGEND]]
    if len(islands) > MAX_ISLAND_LEGEND:
        handles.append(Line2D([], [], color="0.5", label=f"... {len(islands)} islands"))
    if isolated_images(sky).any():
        handles.append(Line2D([], [], color="black", linestyle="--", label="isolated (no valid pair)"))
    if skipped_images(sky).any():
        handles.append(Line2D([], [], color="0.3", marker="x", linestyle="none", label="SKIPPED"))
    if not np.isfinite(np.asarray(sky["sky"], float)).all():
        handles.append(Line2D([], [], color=NO_VALUE_COLOUR, marker="s", linestyle="none", label="no value"))
    return handles


def footprint_map(data, path):
    """Write the two-panel footprint map (fitted sky, match change of the group) to ``path``."""
    x0, x1, y0, y1 = data.bounds
    fig, (left, right) = new_map_figure(x1 - x0, y1 - y0, 2)
    draw_footprints(left, data, data.sky["sky"], "fitted sky")
    left.set_title(f"Fitted sky of {len(data.sky)} images")
    delta = np.asarray(data.sky["delta_match"], float)
    finite = np.isfinite(delta)
    if finite.any():
        top = float(np.max(np.abs(delta[finite]))) or 1.0
        norm = mcolors.TwoSlopeNorm(0.0, -top, top) if (delta[finite] < 0).any() else None
        draw_footprints(right, data, delta, "match change of the group", "coolwarm" if norm else "viridis", norm)
    else:
        draw_footprints(right, data, delta, "match change of the group")
    right.set_title("Match change of each sky group")
    handles = legend_handles(data.sky)
    if handles:
        left.legend(handles=handles, loc="upper left", fontsize="small", framealpha=0.8)
    save_png(fig, path)
