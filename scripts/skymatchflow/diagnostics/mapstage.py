"""The diagnostics' first job: the map file, made beside the pair batches and the solve (no matplotlib here)."""

import logging
import time

from skymatchflow.diagnostics._mapfile import map_arrays, write_map
from skymatchflow.diagnostics._previewgrid import resample_previews
from skymatchflow.diagnostics._stagedata import load_footprints


def make_map(footprint_paths, previews, map_path):
    """Write the map file (mapfile): the footprints on the map and the previews on the mosaic's grid."""
    start = time.perf_counter()
    data = load_footprints(footprint_paths, previews)
    pixels, placed = resample_previews(data)
    write_map(map_path, map_arrays(data, pixels, placed))
    logging.info("map of %d footprints, %d previews placed on a %d-pixel grid in %.1f s", len(data.outlines),
                 sum(values is not None for _, values in placed.values()), pixels, time.perf_counter() - start)
