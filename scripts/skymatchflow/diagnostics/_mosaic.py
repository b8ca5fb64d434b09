"""Figure 4: the mosaic before and after the match, from the previews as the map file placed them on its grid.

The previews were resampled onto one low-resolution grid in the map's
tangent plane before the solve (previewgrid); the mosaic is the mean of the
images on each grid pixel. The same sums give the matched mosaic: the mean
of (preview - sky) is the raw mean minus the mean sky of the images there,
so each preview is reprojected once. Both panels share one colour-scale
width, so a seam the match removes is as visible before as its absence is
after. The grey scale spans a few robust sigma around the sky (not the whole
data range, where stars hide a seam of a few DN); pixels no image covers are
light blue; a third panel shows what the match removed (after minus before).

An image too small on the grid to resample its preview (previewgrid.
MIN_PREVIEW_PIXELS) is painted with its whole-image sky inside its outline.
"""

import logging

import matplotlib
import numpy as np

from skymatchflow.diagnostics._plotting import colour_bar, new_map_figure, note, save_png, setup_map_axes
from skymatchflow.diagnostics._previewgrid import resample_previews
from skymatchflow.diagnostics._skymap import grid_shape

STRETCH_SIGMAS = 5.0  # the grey scale spans the median +- this many robust sigma
NO_DATA_COLOUR = "#9ecae1"  # light blue: no image covers the pixel (grey is data)
log = logging.getLogger(__name__)


def sky_to_remove(row):
    """What the match takes off an image: its fitted sky less any level already subtracted (NaN: 0)."""
    value = float(row["sky"]) - float(row["sky_initial"])
    return value if np.isfinite(value) else 0.0


def removed_on_grid(row, grid_wcs, window):
    """:func:`sky_to_remove`, or with ``sky_model: plane`` the image's plane at each grid pixel of ``window``."""
    from skymatchflow.solve.plane_model import has_plane, plane_at

    if not has_plane(row):
        return sky_to_remove(row)
    rows, cols = window
    yy, xx = np.mgrid[rows, cols]
    ra, dec = grid_wcs.wcs_pix2world(xx.astype(float), yy.astype(float), 0)
    return plane_at(row, ra, dec)


def painted(data, image, window, scale, value):
    """``value`` on the grid pixels of ``window`` whose centres fall inside the image's outline, else NaN."""
    from matplotlib.path import Path

    x0, _, y0, _ = data.bounds
    x, y = data.outlines[image]
    outline = Path(np.column_stack([(x - x0) / scale - 0.5, (y - y0) / scale - 0.5]))
    rows, cols = window
    yy, xx = np.mgrid[rows, cols]
    inside = outline.contains_points(np.column_stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    return np.where(inside, value, np.nan)


def coadd_previews(data):
    """(raw mosaic, matched mosaic, (x0, x1, y0, y1) of the grid in degrees); NaN where no image has a value.

    From the map file's placed previews (``data.placed``), or resampled here when there is none (tests).
    """
    pixels, placed = (data.grid_pixels, data.placed) if data.placed is not None else resample_previews(data)
    shape, scale = grid_shape(data.bounds, pixels)
    grid_wcs = GridWcs(data, pixels)
    total, skies, count = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    resampled = filled = off_grid = 0
    for row in data.sky:
        image = row["image"]
        if image not in placed:
            continue
        window, values = placed[image]
        if window is None:
            off_grid += 1
            continue
        if values is not None:
            resampled += 1
        else:
            values = painted(data, image, window, scale, float(row["sky_whole_image"]))
            filled += 1
        good = np.isfinite(values)
        total[window][good] += values[good]
        skies[window][good] += np.broadcast_to(removed_on_grid(row, grid_wcs, window), values.shape)[good]
        count[window][good] += 1
    log.info("mosaic on a %dx%d grid: %d previews resampled, %d small images filled with their whole-image sky, "
             "%d off the map's tangent plane left out", shape[1], shape[0], resampled, filled, off_grid)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(count > 0, total / count, np.nan)
        matched = np.where(count > 0, (total - skies) / count, np.nan)
    x0, y0 = data.bounds[0], data.bounds[2]
    return raw, matched, (x0, x0 + shape[1] * scale, y0, y0 + shape[0] * scale)


class GridWcs:
    """The grid's WCS, made (astropy.wcs imported) only when a plane sky model asks for it."""

    def __init__(self, data, pixels):
        self.data, self.pixels, self._wcs = data, pixels, None

    def wcs_pix2world(self, *args):
        if self._wcs is None:
            self._wcs = self.data.plane.grid(self.data.bounds, self.pixels)[0]
        return self._wcs.wcs_pix2world(*args)


def robust_sigma(values):
    """1.4826 x the median absolute deviation of the finite values (0 when there are none)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def sky_stretch(raw, matched):
    """(half-width, centres): a few robust sigma of the matched mosaic around each panel's median.

    The matched mosaic's scatter is the noise and the sources, not the sky
    steps, so a seam of a few DN stands out before and its absence shows after.
    """
    sigma = robust_sigma(matched) or robust_sigma(raw)
    if not sigma:
        finite = matched[np.isfinite(matched)]
        sigma = float(np.ptp(finite)) / 2 if finite.size and np.ptp(finite) else 1.0
    return STRETCH_SIGMAS * sigma, (float(np.nanmedian(raw)), float(np.nanmedian(matched)))


def mosaic_figure(data, path):
    """Write the mosaic before and after the match and what the match removed, laid out for the field's shape."""
    bx0, bx1, by0, by1 = data.bounds
    fig, (before, after, removed) = new_map_figure(bx1 - bx0, by1 - by0, 3)
    factor, unit = data.unit()
    x0, x1, y0, y1 = (v * factor for v in data.bounds)
    if not data.previews and data.placed is None:
        note(before, "no previews: skymethod 'user' reads no pixels")
        note(after, "no previews")
        note(removed, "no previews")
        save_png(fig, path)
        return
    raw, matched, grid_extent = coadd_previews(data)
    change = matched - raw  # minus the mean sky removed on each grid pixel
    finite = np.isfinite(raw)
    half, (centre_raw, centre_matched) = sky_stretch(raw, matched) if finite.any() else (1.0, (0.0, 0.0))
    grey = matplotlib.colormaps["gray"].with_extremes(bad=NO_DATA_COLOUR)
    spread = float(np.nanpercentile(np.abs(change - np.nanmedian(change)), 99)) if finite.any() else 1.0
    centre_change = float(np.nanmedian(change)) if finite.any() else 0.0
    diverging = matplotlib.colormaps["PRGn"].with_extremes(bad=NO_DATA_COLOUR)  # no blue: blue is no data
    panels = (
        (before, raw, "Before the match", grey, centre_raw, half),
        (after, matched, "After: each image's fitted sky removed", grey, centre_matched, half),
        (removed, change, "After minus before (the sky removed)", diverging, centre_change, spread or 1.0),
    )
    for ax, image, title, cmap, centre, width in panels:
        shown = ax.imshow(image, origin="lower", extent=tuple(v * factor for v in grid_extent), cmap=cmap,
                          interpolation="nearest", vmin=centre - width, vmax=centre + width)
        setup_map_axes(ax, (x0, x1, y0, y1))
        ax.set_title(title)
        ax.set_xlabel(f"east offset [{unit}] (east to the left)")
        ax.set_ylabel(f"north offset [{unit}]")
        colour_bar(shown, ax, data.value_label("surface brightness"))
    fig.suptitle(f"grey scale: median \u00b1 {STRETCH_SIGMAS:g} robust sigma of the matched mosaic; "
                 "light blue: no image", fontsize="small")
    save_png(fig, path)
