"""Figure files: matplotlib's Agg backend (no display), PNG written atomically."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from skymatchflow import __version__
from skymatchflow.io.stagefiles import atomic_path

DPI = 110


def new_figure(ncols=1, width=6.0, height=5.0):
    """(figure, axes list) with ``ncols`` panels side by side."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_w * ncols, panel_h * nrows), squeeze=False,
                             layout="constrained")
    return fig, list(axes.ravel())


def save_png(fig, path):
    """Write ``fig`` as PNG under a temporary name, rename it into place, close it."""
    # the version as the only metadata (not matplotlib's): a re-run by the same version writes the same bytes
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": f"skymatchflow {__version__}"})
    plt.close(fig)


def note(ax, text):
    """A short centred message in an empty panel (e.g. no pairs for this method)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
