"""The diagnostics stage, in two jobs: the map before the solve, the figures and the summary table after it (one job).

``mapstage.make_map`` (footprints and previews only) runs beside the pair batches and
the solve; ``make_figures`` (the tables and the map file) is all that is left
after the solve. Figures whose inputs did not change are linked from the
figure store (figurestore) instead of being drawn. matplotlib is imported
only when a figure is drawn (plotting selects the Agg backend first).
"""

import logging
import tempfile
import time
from pathlib import Path

from skymatchflow.diagnostics._htmltables import tables_page
from skymatchflow.diagnostics._stagedata import load_figure_stage
from skymatchflow.diagnostics._summary import summary_table
from skymatchflow.diagnostics.figurestore import figure_keys, file_figure, reuse
from skymatchflow.diagnostics.mapstage import make_map
from skymatchflow.io.stagefiles import atomic_path, sha256_file, software_versions

FIGURES = ("footprints", "overlap_graph", "residuals", "mosaic")


def draw(name, data, summary, path):
    """Draw one figure; its module (and matplotlib, Agg) imported here, only when a figure is drawn."""
    from skymatchflow.diagnostics import _plotting  # noqa: F401 (selects the Agg backend before any figure module)

    if name == "footprints":
        from skymatchflow.diagnostics._footprints import footprint_map

        footprint_map(data, path)
    elif name == "overlap_graph":
        from skymatchflow.diagnostics._graph import overlap_graph_map

        overlap_graph_map(data, path)
    elif name == "residuals":
        from skymatchflow.diagnostics._residuals import residuals_figure

        residuals_figure(data, summary, path)
    else:
        from skymatchflow.diagnostics._mosaic import mosaic_figure

        mosaic_figure(data, path)


def write_summary(data, sky_path, pairs_path, outputs):
    """The summary table, with what it was made from, and (when asked) the report's HTML view of the numbers."""
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
    return summary


def make_figures(sky_path, pairs_path, map_path, outputs, store=None, workers=1):
    """Write ``outputs`` (any of "summary", "tables" and the names in FIGURES: a path each); log each step's time.

    The residuals need the summary. With ``store`` (a folder), figures whose
    key is filed there are linked, not drawn. With ``workers`` > 1 the
    figures that need no summary (``BESIDE``) are drawn by a forked copy of
    this process while it writes the summary and draws the rest: the imports
    and the tables are paid once, the drawing takes both cores.
    """
    start = time.perf_counter()
    data = load_figure_stage(sky_path, pairs_path, map_path)
    logging.info("read %d images, %d pairs in %.1f s", len(data.sky), len(data.pairs), time.perf_counter() - start)
    names = [name for name in FIGURES if name in outputs]
    keys = figure_keys(names, {"sky": sky_path, "pairs": pairs_path}, map_path) if store else {}
    todo = []
    for name in names:
        if store and reuse(store, name, keys[name], outputs[name]):
            logging.info("%s: %s unchanged, linked from %s", name, outputs[name], store)
        else:
            todo.append(name)
    beside = [name for name in todo if name in BESIDE] if workers > 1 else []
    rest = [name for name in todo if name not in beside]
    if not (rest or "summary" in outputs):
        beside, rest = [], todo  # nothing to do here meanwhile: no second process
    if todo:
        from skymatchflow.diagnostics import _plotting  # noqa: F401 (matplotlib, Agg, imported once, before the fork)
    helper = _start(_draw_all, beside, data, None, outputs, store, keys) if beside else None
    summary = write_summary(data, sky_path, pairs_path, outputs) if "summary" in outputs else None
    _draw_all(rest, data, summary, outputs, store, keys)
    if helper is not None:
        helper.join()
        if helper.exitcode != 0:
            raise RuntimeError(f"drawing {', '.join(beside)} failed in a forked process (exit {helper.exitcode}); "
                               "its error is in the log above")
    return summary


BESIDE = ("footprints", "overlap_graph")  # the figures that need no summary: drawn by a forked helper


def _draw_all(names, data, summary, outputs, store, keys):
    for name in names:
        began = time.perf_counter()
        draw(name, data, summary, outputs[name])
        if store:
            file_figure(store, name, keys[name], outputs[name])
        logging.info("%s: %s in %.1f s", name, outputs[name], time.perf_counter() - began)


def _in_helper(function, *args):
    """A forked helper's body: its error goes to the log (the parent only sees the exit status)."""
    try:
        function(*args)
    except BaseException:
        logging.exception("the forked figure process failed")
        raise


def _start(function, *args):
    """Run ``function(*args)`` in a forked copy of this process (the imports and the data come along)."""
    import multiprocessing

    helper = multiprocessing.get_context("fork").Process(target=_in_helper, args=(function, *args))
    helper.start()
    return helper


def make_diagnostics(sky_path, pairs_path, footprint_paths, previews, outputs):
    """Both jobs in one call (tests, benchmarks): the map in a temporary folder, then every output."""
    with tempfile.TemporaryDirectory() as tmp:
        map_path = Path(tmp) / "map.npz"
        make_map(footprint_paths, previews, map_path)
        return make_figures(sky_path, pairs_path, map_path, outputs)
