"""Stage file writers and readers only the tests use: a JSON record written atomically, a mask's provenance."""

import json

from astropy.io import fits

from skymatchflow.io.stagefiles import atomic_path


def write_json(path, record):
    """Write a JSON stage file atomically (sorted keys, stable formatting)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True, allow_nan=False) + "\n")


def read_mask_provenance(path):
    """The provenance record stored in a mask file's header."""
    return json.loads(fits.getheader(path, "MASK")["PROVENAN"])
