"""Figure files: matplotlib's Agg backend (no display), PNG written atomically.

Margins are fixed in inches (``set_margins``), not found by constrained layout:
that layout measures every tick label and title before each draw, and was
more than half of a small figure's time. The margins leave room for a
two-line title, the axis labels and a colour bar with its label beside each
panel. PNGs are written with zlib's fastest level (a few percent larger).
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from skymatchflow import __version__
from skymatchflow.io.stagefiles import atomic_path

# titles at a fixed height: the automatic one measures every tick label of the axes again at each draw
matplotlib.rcParams["axes.titley"] = 1.0

DPI = 110
PNG_COMPRESS_LEVEL = 1  # zlib's fastest: the default level 6 took as long as drawing a small figure
# margins in inches around the panels, and between them (a colour bar and its label, then the next y label)
LEFT, RIGHT, BOTTOM, TOP = 0.95, 0.25, 0.6, 0.6
COLOURBAR_GAP, ROW_GAP = 1.45, 0.95


def new_figure(ncols=1, width=6.0, height=5.0, fixed=True):
    """(figure, axes list) with ``ncols`` panels side by side; ``fixed=False``: constrained layout (long labels)."""
    if not fixed:
        fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
        return fig, list(axes[0])
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    set_margins(fig, 1, ncols, gap=COLOURBAR_GAP - 0.4)  # no colour bars
    return fig, list(axes[0])


def panel_layout(width, height, n_panels):
    """(nrows, ncols, panel width, panel height) in inches for ``n_panels`` maps of a field ``width`` x ``height``.

    Panels sit side by side for a field about as wide as tall, one above the
    other for a wide strip, so that a 5 x 40 field is not a thin band in a
    white canvas; the panel's height follows the field's shape (within limits).
    """
    aspect = max(float(width), 1e-12) / max(float(height), 1e-12)  # wide > 1
    if aspect >= 2.0:
        panel_w = 11.0
        return n_panels, 1, panel_w, min(6.0, max(1.6, panel_w / aspect + 1.2))
    panel_h = 5.0
    return 1, n_panels, min(7.0, max(3.0, panel_h * aspect + 1.5)), panel_h


def new_map_figure(width, height, n_panels):
    """(figure, axes list) with ``n_panels`` map panels laid out for the field's shape (panel_layout)."""
    nrows, ncols, panel_w, panel_h = panel_layout(width, height, n_panels)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_w * ncols, panel_h * nrows), squeeze=False)
    set_margins(fig, nrows, ncols, right=RIGHT + COLOURBAR_GAP - 0.55)  # the last panel's colour bar label
    return fig, list(axes.ravel())


def set_margins(fig, nrows, ncols, gap=COLOURBAR_GAP, right=RIGHT):
    """Fixed margins in inches (module constants) for a grid of ``nrows`` x ``ncols`` panels."""
    width, height = fig.get_size_inches()
    panel_w = (width - LEFT - right - (ncols - 1) * gap) / ncols
    panel_h = (height - BOTTOM - TOP - (nrows - 1) * ROW_GAP) / nrows
    fig.subplots_adjust(left=LEFT / width, right=1 - right / width, bottom=BOTTOM / height, top=1 - TOP / height,
                        wspace=gap / panel_w, hspace=ROW_GAP / panel_h)


def colour_bar(mappable, ax, label):
    """A colour bar beside ``ax``, taken from its right edge (the fixed margins leave room for its label)."""
    bar = ax.figure.colorbar(mappable, ax=ax, label=label, shrink=0.85, fraction=0.05, pad=0.03)
    bar.locator = few_ticks_locator()
    return bar


def save_png(fig, path):
    """Write ``fig`` as PNG under a temporary name, rename it into place, close it."""
    # the version as the only metadata (not matplotlib's): a re-run by the same version writes the same bytes
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": f"skymatchflow {__version__}"},
                    pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    plt.close(fig)


def note(ax, text):
    """A short centred message in an empty panel (e.g. no pairs for this method)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)


def setup_map_axes(ax, bounds, pad=0.04):
    """Equal aspect, east to the left, limits around ``bounds`` (in the plotted unit)."""
    x0, x1, y0, y1 = bounds
    dx, dy = (x1 - x0) * pad or 1.0, (y1 - y0) * pad or 1.0
    ax.set_xlim(x1 + dx, x0 - dx)  # east (positive x) to the left
    ax.set_ylim(y0 - dy, y1 + dy)
    ax.set_aspect("equal")
    ax.xaxis.set_major_locator(few_ticks_locator())
    ax.yaxis.set_major_locator(few_ticks_locator())


def few_ticks_locator(n=5):
    """At most about ``n`` labelled ticks: each tick is a few artists, and they were much of a small figure's time."""
    return MaxNLocator(n)
