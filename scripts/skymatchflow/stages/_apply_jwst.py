"""Matched copies of JWST cal files written through stdatamodels, as the step saves them.

A JWST data model keeps its metadata twice: FITS keywords and the ASDF
extension's tree. stdatamodels reads the FITS keywords over the tree unless
the tree's FITS hash still matches the file, so keywords alone would
usually do; writing the copy through ``ImageModel`` sets both, exactly as
jwst's ``_set_sky_background`` and the step's save do:
meta.background.{level,subtracted,method} (COMPLETE only),
meta.cal_step.skymatch, and the data lowered by the sky changes (float32,
in the reference's order) when subtracting. Used only when stdatamodels is
installed (the JWST extras).
"""

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from skymatchflow import __version__
from skymatchflow.geometry.skywcs import ASDF_EXTENSION
from skymatchflow.stages._apply_plane import has_plane, plane_history


def is_jwst_model_file(hdul, n_images):
    """True when a file is one JWST data model (one image, an ASDF extension) and stdatamodels is installed."""
    return n_images == 1 and ASDF_EXTENSION in hdul and importlib.util.find_spec("stdatamodels") is not None


#: how the history entry recording a matched copy's made-from key starts (then the key, "code", the digest)
IDENTITY_ENTRY = "skymatchflow made_from_key"


def recorded_model_identity(hdul):
    """The {"key", "code"} a matched cal file's ASDF history records, or None."""
    if ASDF_EXTENSION not in hdul:
        return None
    import io

    import asdf

    try:
        tree = asdf.util.load_yaml(io.BytesIO(hdul[ASDF_EXTENSION].data.tobytes()))
        entries = tree.get("history", {}).get("entries", [])
    except Exception:  # an unreadable tree records nothing
        return None
    for entry in reversed(entries):
        words = str(entry.get("description", "")).split() if isinstance(entry, dict) else []
        if " ".join(words[:2]) == IDENTITY_ENTRY and len(words) == 5 and words[3] == "code":
            return {"key": words[2], "code": words[4]}
    return None


def write_matched_model(source, destination, row, skymethod, subtract, changes, history=()):
    """Write ``destination`` from the cal file ``source`` with one sky-table row applied.

    ``history``: further history entries (the copy's made-from key).

    Saved into a hidden directory beside the destination under its final
    name (the model records its file name), then renamed into place.
    ``changes``: the sky changes to subtract (for a plane row, sky_model:
    plane, its map at every pixel, stages/_apply_plane.py).
    """
    from stdatamodels.jwst.datamodels import ImageModel

    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    try:
        with ImageModel(str(source)) as model:
            complete = row["status"] == "COMPLETE"
            if complete and has_plane(row):  # sky_model: plane: ``changes`` holds its map, recorded in the history
                for entry in plane_history(row):
                    model.add_history_entry(entry)
            if complete:
                model.meta.background.method = skymethod
                model.meta.background.level = float(row["sky"])
                model.meta.background.subtracted = bool(subtract)
                if subtract:
                    data = np.array(model.data, dtype=np.float32)
                    for change in changes:
                        data -= change
                    model.data = data
            model.meta.cal_step.skymatch = "COMPLETE" if complete else "SKIPPED"
            model.add_history_entry(  # which version wrote the copy (a FITS copy: the SKYMFVER keyword)
                f"skymatchflow {__version__}: skymatch {model.meta.cal_step.skymatch}",
                software={"name": "skymatchflow", "version": __version__},
            )
            for entry in history:
                model.add_history_entry(entry, software={"name": "skymatchflow", "version": __version__})
            tmp = Path(workdir) / destination.name
            model.save(str(tmp))
        os.replace(tmp, destination)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
