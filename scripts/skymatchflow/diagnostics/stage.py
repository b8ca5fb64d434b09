"""The diagnostics stage: every figure and the summary table from the stage files."""

import logging
import time

from skymatchflow.diagnostics.footprints import footprint_map
from skymatchflow.diagnostics.graph import overlap_graph_map
from skymatchflow.diagnostics.htmltables import tables_page
from skymatchflow.diagnostics.mosaic import mosaic_figure
from skymatchflow.diagnostics.residuals import residuals_figure
from skymatchflow.diagnostics.stagedata import load_stage
from skymatchflow.diagnostics.summary import summary_table
from skymatchflow.io.stagefiles import atomic_path, sha256_file, software_versions

FIGURES = ("footprints", "overlap_graph", "residuals", "mosaic")


def make_diagnostics(sky_path, pairs_path, footprint_paths, previews, outputs):
    """Write ``outputs`` ({"summary": path, one path per name in FIGURES, optionally "tables"}); log each step's time."""
    start = time.perf_counter()
    data = load_stage(sky_path, pairs_path, footprint_paths, previews)
    logging.info("read %d images, %d pairs in %.1f s", len(data.sky), len(data.pairs), time.perf_counter() - start)
    summary = summary_table(data.sky_all, data.pairs)
    # what it was made from: the two tables' bytes, and the code (README "Provenance")
    summary.meta["made_from"] = {str(path): sha256_file(path) for path in (sky_path, pairs_path)}
    summary.meta["software"] = software_versions()
    if "reason" in data.sky_all.colnames:  # on_bad_input: skip; the bad images and why
        summary.meta["skipped_bad_inputs"] = {
            str(row["image"]): str(row["reason"]) for row in data.sky_all if row["reason"]
        }
    with atomic_path(outputs["summary"]) as tmp:
        summary.write(tmp, format="ascii.ecsv")
    if "tables" in outputs:  # the report's view of the numbers
        with atomic_path(outputs["tables"]) as tmp:
            tmp.write_text(tables_page(summary, data.sky_all))
    steps = {
        "footprints": lambda path: footprint_map(data, path),
        "overlap_graph": lambda path: overlap_graph_map(data, path),
        "residuals": lambda path: residuals_figure(data, summary, path),
        "mosaic": lambda path: mosaic_figure(data, path),
    }
    for name in FIGURES:
        began = time.perf_counter()
        steps[name](outputs[name])
        logging.info("%s: %s in %.1f s", name, outputs[name], time.perf_counter() - began)
    return summary
