"""Figures filed under a key of what they are drawn from: a re-run redraws only the figures whose inputs changed.

Snakemake deletes a job's outputs before it runs, so reuse lives beside them,
as for the image and pair products (products/store): a figure is filed in
``results/diagnostics/store/<figure>/`` under the SHA-256 of its name, the code
that draws it (its module and what that imports: io/codeid), the versions of
the package and of matplotlib, the map file's bytes and the rows of the
tables it reads. Table rows only, not their header: a table whose metadata
changed (a config key the figures do not show, the software versions) draws
the same figure. A figure found under its key, with its content checksum
intact, is linked into the output; anything else is drawn again. Filed
figures no output links to any more are deleted (the store's retention rule).

A figure that starts to show a table's metadata must add it to its key.
"""

import hashlib
import json
import os
from pathlib import Path

from skymatchflow import __version__
from skymatchflow.io.codeid import module_digest
from skymatchflow.products.store import link_into, prune_unlinked

# beside the figures, not in the product store, whose every file the audit checks as a sealed product
FIGURE_STORE = "results/diagnostics/store"
# what each figure reads besides the map file (its module draws it)
FIGURE_TABLES = {"footprints": ("sky",), "overlap_graph": ("sky", "pairs"), "residuals": ("sky", "pairs"),
                 "mosaic": ("sky",)}
FIGURE_MODULES = {"footprints": "skymatchflow.diagnostics._footprints", "overlap_graph": "skymatchflow.diagnostics._graph",
                  "residuals": "skymatchflow.diagnostics._residuals", "mosaic": "skymatchflow.diagnostics._mosaic"}


def table_rows_digest(path):
    """SHA-256 of an ECSV file's rows (column names and values), without its header of types and metadata."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        in_header = True
        for line in handle:
            if in_header and line.startswith(b"#"):
                continue
            in_header = False
            digest.update(line)
    return digest.hexdigest()


def file_digest(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def matplotlib_version():
    """matplotlib's version without importing it (its import is most of a figure's fixed cost)."""
    from importlib import metadata

    return metadata.version("matplotlib")


def figure_keys(names, tables, map_path):
    """{figure: key} for ``names``; ``tables`` maps "sky" and "pairs" to their paths."""
    rows = {role: table_rows_digest(path) for role, path in tables.items()}
    shared = {"package": __version__, "matplotlib": matplotlib_version(), "map": file_digest(map_path),
              "data": module_digest("skymatchflow.diagnostics._stagedata")}
    keys = {}
    for name in names:
        record = shared | {"figure": name, "tables": {role: rows[role] for role in FIGURE_TABLES[name]},
                           "code": module_digest(FIGURE_MODULES[name])}
        keys[name] = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return keys


def _filed(store, name, key):
    return sorted(Path(store, name).glob(f"{key}.*.png"))


def reuse(store, name, key, output):
    """Link the figure filed under ``key`` into ``output``; False when there is none or it is damaged."""
    for path in _filed(store, name, key):
        if file_digest(path)[:16] == path.name.split(".")[1]:
            link_into(path, output)
            os.utime(output)  # as new as a figure drawn now: Snakemake compares it with its inputs' times
            prune_unlinked(Path(store, name), keep=[path])
            return True
    return False


def file_figure(store, name, key, output):
    """File a figure just drawn at ``output`` under ``key`` (a hard link, its checksum in its name)."""
    folder = Path(store, name)
    folder.mkdir(parents=True, exist_ok=True)
    filed = folder / f"{key}.{file_digest(output)[:16]}.png"
    if not filed.exists():
        link_into(output, filed)
    prune_unlinked(folder, keep=[filed])
