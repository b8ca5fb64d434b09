"""Figure files: matplotlib's Agg backend (no display), PNG written atomically."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from skymatchflow import __version__  # noqa: E402
from skymatchflow.io.stagefiles import atomic_path  # noqa: E402

DPI = 110


def new_figure(ncols=1, width=6.0, height=5.0):
    """(figure, axes list) with ``ncols`` panels side by side."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    return fig, list(axes[0])


def save_png(fig, path):
    """Write ``fig`` as PNG under a temporary name, rename it into place, close it."""
    # the version as the only metadata (not matplotlib's): a re-run by the same version writes the same bytes
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": f"skymatchflow {__version__}"})
    plt.close(fig)


def note(ax, text):
    """A short centred message in an empty panel (e.g. no pairs for this method)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
