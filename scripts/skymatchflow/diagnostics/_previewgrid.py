"""The previews on the mosaic's grid, made before the solve: what the mosaic needs that no sky value changes.

Every preview is resampled (bilinear, scipy's ``map_coordinates`` through
astropy's WCS; the same values as ``reproject_interp``) onto the part of one
low-resolution grid in the map's tangent plane that it covers. Reading and
resampling the previews is most of the mosaic's cost and depends on the
image batches only, so it runs beside the pair batches and the solve, and a
re-run that changes only the sky (a solve option) does not repeat it.

At survey scale an image covers only a few grid pixels, where its preview
shows nothing its whole-image sky does not: an image less than
``MIN_PREVIEW_PIXELS`` grid pixels across gets only its window here (the
mosaic paints it with that sky), and its preview file is not read (reading a
FITS file costs milliseconds; 10,000 of them would take most of a minute).

No matplotlib here: this job draws nothing.
"""

import numpy as np

MAX_GRID_PIXELS = 600
MIN_PREVIEW_PIXELS = 12


def previews_size(data):
    """The previews' longer side (preview.preview_size: finer for a few images), from the first one's header."""
    from astropy.io import fits

    from skymatchflow.products.previews import PREVIEW_SIZE

    for path in list(data.previews.values())[:1]:
        try:
            header = fits.getheader(path)
            return max(int(header["NAXIS1"]), int(header["NAXIS2"]))
        except (OSError, KeyError):
            break
    return PREVIEW_SIZE


def grid_pixels(data):
    """The grid's longer side: about as fine as the previews, at most ``MAX_GRID_PIXELS``."""
    x0, x1, y0, y1 = data.bounds
    extent = max(x1 - x0, y1 - y0)
    sizes = [max(np.ptp(x), np.ptp(y)) for x, y in data.outlines.values()]
    preview_scale = float(np.median(sizes)) / previews_size(data)
    return int(min(MAX_GRID_PIXELS, max(8, np.ceil(extent / preview_scale))))


def grid_for(data):
    """(WCS, shape, scale): a grid over the footprints about as fine as the previews, at most ``MAX_GRID_PIXELS``."""
    x0, x1, y0, y1 = data.bounds
    pixels = grid_pixels(data)
    wcs, shape = data.plane.grid(data.bounds, pixels)
    return wcs, shape, max(x1 - x0, y1 - y0) / pixels


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


def is_resampled(window):
    """Whether an image's window is large enough for its preview to be read (else it is painted)."""
    return max(window[0].stop - window[0].start, window[1].stop - window[1].start) >= MIN_PREVIEW_PIXELS


def resample_previews(data):
    """(grid pixels, {image: (window or None off the grid, resampled values or None to paint)}) of every preview."""
    from skymatchflow.stages.preview import PreviewReader

    if not data.previews:
        return 0, {}
    reader = PreviewReader()
    pixels = grid_pixels(data)
    wcs, shape = data.plane.grid(data.bounds, pixels)
    x0, x1, y0, y1 = data.bounds
    scale = max(x1 - x0, y1 - y0) / pixels
    placed = {}
    for image, path in data.previews.items():
        if image not in data.outlines:
            continue
        window = cutout(data, image, scale, shape)
        values = None
        if window is not None and is_resampled(window):
            preview, keywords = reader.read(path)
            values = resample(preview, reader.point(keywords), wcs, window)
        placed[image] = (window, values)
    return pixels, placed
