"""The map file (``results/diagnostics/map.npz``): what the figures draw that the solve does not change.

Made before the solve, from the image batches alone: every footprint's
outline projected on the map's tangent plane, the data unit, and every
preview resampled onto the mosaic's grid (previewgrid). The figures after the
solve read this one file instead of thousands of footprints and previews,
and need neither astropy's WCS nor scipy.

An ``.npz`` archive (numpy's reader, no pickles) written with fixed zip
dates, so the same inputs give the same bytes and a figure keyed on them
(figurestore) is not redrawn after a re-run of this job that changed nothing.
No matplotlib here: this job draws nothing.
"""

import io
import zipfile

import numpy as np

from skymatchflow.io.stagefiles import atomic_path

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
NO_WINDOW = (-1, -1, -1, -1)


def _window_row(window):
    return NO_WINDOW if window is None else (window[0].start, window[0].stop, window[1].start, window[1].stop)


def _window(row):
    i0, i1, j0, j1 = (int(v) for v in row)
    return None if i0 < 0 else (slice(i0, i1), slice(j0, j1))


def map_arrays(data, pixels, placed):
    """The map file's arrays from a StageData's outlines and previewgrid.resample_previews' result."""
    images = list(data.outlines)
    xs = [np.asarray(data.outlines[image][0], float) for image in images]
    ys = [np.asarray(data.outlines[image][1], float) for image in images]
    placed_images = list(placed)
    values = [placed[image][1] for image in placed_images]
    return {
        "images": np.array(images, dtype=str),
        "outline_n": np.array([len(x) for x in xs], dtype=np.int64),
        "outline_x": np.concatenate(xs) if xs else np.zeros(0),
        "outline_y": np.concatenate(ys) if ys else np.zeros(0),
        "centre": np.array(data.plane.centre, float),
        "bunit": np.array(data.bunit, dtype=str),
        "has_previews": np.array(bool(data.previews)),
        "grid_pixels": np.array(pixels, dtype=np.int64),
        "placed_images": np.array(placed_images, dtype=str),
        "windows": np.array([_window_row(placed[image][0]) for image in placed_images], dtype=np.int64).reshape(-1, 4),
        "resampled": np.array([v is not None for v in values], dtype=bool),
        "values": np.concatenate([v.ravel() for v in values if v is not None] or [np.zeros(0)]),
    }


def write_map(path, arrays):
    """Write ``arrays`` as an ``.npz`` with fixed dates (the same arrays, the same bytes), atomically."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE), buffer.getvalue())


def read_map(path):
    """(outlines {image: (x, y)}, centre, bunit, has previews, grid pixels, placed {image: (window, values)})."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    ends = np.cumsum(arrays["outline_n"])
    starts = ends - arrays["outline_n"]
    outlines = {str(image): (arrays["outline_x"][a:b], arrays["outline_y"][a:b])
                for image, a, b in zip(arrays["images"], starts, ends)}
    placed, start = {}, 0
    for image, row, resampled in zip(arrays["placed_images"], arrays["windows"], arrays["resampled"]):
        window = _window(row)
        values = None
        if resampled:
            shape = (window[0].stop - window[0].start, window[1].stop - window[1].start)
            size = shape[0] * shape[1]
            values = arrays["values"][start:start + size].reshape(shape)
            start += size
        placed[str(image)] = (window, values)
    return (outlines, tuple(float(v) for v in arrays["centre"]), str(arrays["bunit"]), bool(arrays["has_previews"]),
            int(arrays["grid_pixels"]), placed)
