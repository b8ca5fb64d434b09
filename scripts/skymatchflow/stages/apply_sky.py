"""Matched copies: the input file with the sky keywords set (and the sky subtracted).

As jwst's ``_set_sky_background``: a COMPLETE image gets BKGMETH, BKGLEVEL,
BKGSUB and, with ``subtract``, its SCI lowered by the sky changes in the
order the reference applies them (match stage, then global/local stage, each
in float32); a SKIPPED image keeps data and background keywords; S_SKYMAT
says which. Every other HDU and card is copied unchanged; the input is
never modified. A JWST cal file (ASDF extension, stdatamodels installed) is
written through its data model instead (_apply_jwst.py), so the ASDF tree agrees.

Each copy records what made it, as the tables do: the code digest and one
made-from key over the sky table's made_from_key, the checksum of the input
bytes it was made from, the method and the code (keywords SKYMFKEY and
SKYMFCOD; a cal file: an ASDF history entry), which the audit checks.
"""

import bz2
import gzip
import math

import numpy as np
from astropy.io import fits

from skymatchflow import __version__
from skymatchflow.io.codeid import package_digest
from skymatchflow.io.inputs import parse_extension
from skymatchflow.io.pinnedfiles import pinned_path
from skymatchflow.io.stagefiles import atomic_path
from skymatchflow.jobs.identity import job_identity
from skymatchflow.stages._apply_jwst import IDENTITY_ENTRY, is_jwst_model_file, recorded_model_identity
from skymatchflow.stages._apply_plane import has_plane, image_pixel_to_sky, plane_changes, record_plane

VERSION_KEYWORD = "SKYMFVER"  # which version wrote a matched copy (a cal file: a HISTORY entry)
KEY_KEYWORD = "SKYMFKEY"  # the copy's made-from key (matched_identity)
CODE_KEYWORD = "SKYMFCOD"  # the digest of the code that made it (as the tables' skymatchflow_code)


def matched_identity(sky_table_key, input_sha256, skymethod, subtract):
    """{"key", "code"}: what a matched copy records; the key covers the sky table's key, the input's bytes, the method and the code."""
    code = package_digest()
    made_from = {"sky_table": sky_table_key, "input_sha256": input_sha256, "skymethod": skymethod,
                 "subtract": bool(subtract), "code": code}
    return {"key": job_identity(made_from), "code": code}


def recorded_identity(path):
    """The {"key", "code"} a matched copy records, or None (made before copies recorded it, or unreadable)."""
    try:
        with fits.open(path, mode="readonly", memmap=False) as hdul:
            header = hdul[0].header
            if KEY_KEYWORD in header:
                return {"key": header[KEY_KEYWORD], "code": header.get(CODE_KEYWORD)}
            return recorded_model_identity(hdul)
    except (OSError, ValueError):
        return None


def _keyword_header(hdul, ext, single):
    """Where an image's sky keywords go: the primary header (JWST) or its own SCI header."""
    return hdul[0].header if single else hdul[parse_extension(ext)].header


def _changes(row, skymethod):
    """The sky changes applied to the data, in the reference's order ('user': the listed sky)."""
    if skymethod == "user":
        return [float(row["sky"])]
    return [float(row[col]) for col in ("delta_match", "sky_global") if not math.isnan(row[col])]


def write_matched_copy(source, destination, rows, skymethod, subtract, identity=None):
    """Write ``destination``: ``source`` with the sky results of its ``rows`` applied.

    ``rows``: the sky-table rows of the images of this file. S_SKYMAT (primary
    header) is COMPLETE only if every image of the file is. ``identity``
    (matched_identity) is recorded in the copy. ``source`` is read through
    its pinned descriptor when the caller pinned it (io/pinnedfiles).
    """
    with fits.open(pinned_path(source), mode="readonly", memmap=False) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    if is_jwst_model_file(hdul, len(rows)):  # the data model's ASDF tree must say the same
        from skymatchflow.stages._apply_jwst import write_matched_model

        history = [f"{IDENTITY_ENTRY} {identity['key']} code {identity['code']}"] if identity else []
        changes = _changes(rows[0], skymethod)
        if has_plane(rows[0]):  # sky_model: plane
            shape = hdul[parse_extension(rows[0]["sci"])].data.shape
            changes = plane_changes(rows[0], shape, image_pixel_to_sky(hdul, rows[0], source))
        return write_matched_model(source, destination, rows[0], skymethod, subtract, changes, history)
    single = len(rows) == 1
    statuses = []
    for row in rows:
        header = _keyword_header(hdul, row["sci"], single)
        complete = row["status"] == "COMPLETE"
        statuses.append(complete)
        if not complete:
            continue
        header["BKGMETH"] = (skymethod, "Background computation method")
        header["BKGLEVEL"] = (float(row["sky"]), "Computed constant background level")
        header["BKGSUB"] = (bool(subtract), "Has background been subtracted from data?")
        changes = _changes(row, skymethod)
        if has_plane(row):  # sky_model: plane
            record_plane(header, row)
            changes = plane_changes(row, hdul[parse_extension(row["sci"])].data.shape, image_pixel_to_sky(hdul, row, source))
        if subtract:
            hdu = hdul[parse_extension(row["sci"])]
            data = np.array(hdu.data, dtype=np.float32)
            for change in changes:
                data -= change
            hdu.data = data
    hdul[0].header["S_SKYMAT"] = ("COMPLETE" if all(statuses) else "SKIPPED", "Sky Matching")
    hdul[0].header[VERSION_KEYWORD] = (__version__, "skymatchflow version that matched the sky")
    if identity:
        # no comments: a 64-digit value fills the card
        hdul[0].header[KEY_KEYWORD] = identity["key"]
        hdul[0].header[CODE_KEYWORD] = identity["code"]
    with atomic_path(destination) as tmp:
        with _open_output(tmp, destination) as handle:
            hdul.writeto(handle, output_verify="silentfix", checksum=_had_checksums(hdul))


# The matched copy keeps its input's name, so a compressed name gets a
# compressed file (astropy picks compression from the name it writes to,
# which here is the temporary one).
COMPRESSED_WRITERS = {".gz": gzip.open, ".bz2": bz2.open}  # of the whole-file compressions, those written


def _had_checksums(hdul):
    """An input with CHECKSUM/DATASUM gets them recomputed; copied ones would be stale."""
    return any("CHECKSUM" in hdu.header or "DATASUM" in hdu.header for hdu in hdul)


def _open_output(tmp, destination):
    for suffix, open_compressed in COMPRESSED_WRITERS.items():
        if str(destination).lower().endswith(suffix):
            return open_compressed(tmp, "wb")
    return open(tmp, "wb")
