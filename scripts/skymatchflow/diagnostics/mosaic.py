"""Figure 4: the mosaic before and after the match, from the per-image previews.

Every preview is resampled (bilinear, scipy's ``map_coordinates`` through
astropy's WCS; the same values as ``reproject_interp``) onto the part of one
low-resolution grid in the map's tangent plane that it covers;
the mosaic is the mean of the images on each grid pixel. The same sums give
the matched mosaic: the mean of (preview - sky) is the raw mean minus the
mean sky of the images there, so each preview is reprojected once. Both
panels share one colour-scale width, so a seam the match removes is as
visible before as its absence is after. The grey scale spans a few robust
sigma around the sky (not the whole data range, where stars hide a seam of a
few DN); pixels no image covers are light blue; a third panel shows what the
match removed (after minus before).

At survey scale an image covers only a few grid pixels, where its preview
shows nothing its whole-image sky (the statistic of its good pixels) does
not: an image less than ``MIN_PREVIEW_PIXELS`` grid pixels across is painted
with that value inside its outline, and its preview file is not read
(reading a FITS file costs milliseconds; 10,000 of them would take most of
a minute).
"""

import logging

import matplotlib
import numpy as np

from skymatchflow.diagnostics.plotting import new_map_figure, note, save_png
from skymatchflow.diagnostics.skymap import setup_map_axes

MAX_GRID_PIXELS = 600
STRETCH_SIGMAS = 5.0  # the grey scale spans the median +- this many robust sigma
NO_DATA_COLOUR = "#9ecae1"  # light blue: no image covers the pixel (grey is data)
MIN_PREVIEW_PIXELS = 12
log = logging.getLogger(__name__)


def grid_for(data):
    """(WCS, shape, scale): a grid over the footprints about as fine as the previews, at most ``MAX_GRID_PIXELS``."""
    x0, x1, y0, y1 = data.bounds
    extent = max(x1 - x0, y1 - y0)
    sizes = [max(np.ptp(x), np.ptp(y)) for x, y in data.outlines.values()]
    preview_scale = float(np.median(sizes)) / previews_size(data)
    pixels = int(min(MAX_GRID_PIXELS, max(8, np.ceil(extent / preview_scale))))
    wcs, shape = data.plane.grid(data.bounds, pixels)
    return wcs, shape, extent / pixels


def previews_size(data):
    """The previews' longer side (products/previews.preview_size: finer for a few images), from the first one's header."""
    from astropy.io import fits

    from skymatchflow.stages.preview import PREVIEW_SIZE

    for path in list(data.previews.values())[:1]:
        try:
            header = fits.getheader(path)
            return max(int(header["NAXIS1"]), int(header["NAXIS2"]))
        except (OSError, KeyError):
            break
    return PREVIEW_SIZE


def cutout(data, image, scale, shape):
    """(slice y, slice x) of the grid pixels around one image's outline, or None if it is off the grid.

    Off the grid too: an image the map's tangent plane cannot show (a
    vertex 90 degrees or more from its centre, as in a survey around the sky).
    """
    x0, _, y0, _ = data.bounds
    x, y = data.outlines[image]
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return None
    px, py = (x - x0) / scale - 0.5, (y - y0) / scale - 0.5
    i0, i1 = max(0, int(np.floor(np.nanmin(py))) - 1), min(shape[0], int(np.ceil(np.nanmax(py))) + 2)
    j0, j1 = max(0, int(np.floor(np.nanmin(px))) - 1), min(shape[1], int(np.ceil(np.nanmax(px))) + 2)
    return (slice(i0, i1), slice(j0, j1)) if i1 > i0 and j1 > j0 else None


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


def resample(preview, preview_wcs, grid_wcs, window):
    """The preview on the grid pixels of ``window``: bilinear, NaN outside it or next to a NaN bin.

    What ``reproject_interp`` computes (tests/test_diagnostics.py checks it),
    with the pixel mapping done by astropy's low-level WCS (wcslib): the
    high-level coordinate objects reproject goes through cost ~20 ms per
    image, minutes for 10,000 previews.
    """
    from scipy.ndimage import map_coordinates

    rows, cols = window
    yy, xx = np.mgrid[rows, cols]
    ra, dec = grid_wcs.wcs_pix2world(xx.astype(float), yy.astype(float), 0)
    x, y = preview_wcs.wcs_world2pix(ra, dec, 0)
    ny, nx = preview.shape
    inside = (x >= -0.5) & (x <= nx - 0.5) & (y >= -0.5) & (y <= ny - 0.5)
    values = map_coordinates(preview, [y, x], order=1, mode="nearest", prefilter=False)
    return np.where(inside, values, np.nan)


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
    """(raw mosaic, matched mosaic, (x0, x1, y0, y1) of the grid in degrees); NaN where no image has a value."""
    from skymatchflow.stages.preview import PreviewReader

    reader = PreviewReader()
    wcs, shape, scale = grid_for(data)
    total, skies, count = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    resampled = filled = off_grid = 0
    for row in data.sky:
        image = row["image"]
        if image not in data.previews:
            continue
        if (window := cutout(data, image, scale, shape)) is None:
            off_grid += 1
            continue
        if max(window[0].stop - window[0].start, window[1].stop - window[1].start) >= MIN_PREVIEW_PIXELS:
            preview, keywords = reader.read(data.previews[image])
            values = resample(preview, reader.point(keywords), wcs, window)
            resampled += 1
        else:
            values = painted(data, image, window, scale, float(row["sky_whole_image"]))
            filled += 1
        good = np.isfinite(values)
        total[window][good] += values[good]
        skies[window][good] += np.broadcast_to(removed_on_grid(row, wcs, window), values.shape)[good]
        count[window][good] += 1
    log.info("mosaic on a %dx%d grid: %d previews resampled, %d small images filled with their whole-image sky, "
             "%d off the map's tangent plane left out", shape[1], shape[0], resampled, filled, off_grid)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(count > 0, total / count, np.nan)
        matched = np.where(count > 0, (total - skies) / count, np.nan)
    x0, y0 = data.bounds[0], data.bounds[2]
    return raw, matched, (x0, x0 + shape[1] * scale, y0, y0 + shape[0] * scale)


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
    if not data.previews:
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
        fig.colorbar(shown, ax=ax, label=data.value_label("surface brightness"), shrink=0.85)
    fig.suptitle(f"grey scale: median \u00b1 {STRETCH_SIGMAS:g} robust sigma of the matched mosaic; "
                 "light blue: no image", fontsize="small")
    save_png(fig, path)
