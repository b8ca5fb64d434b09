"""User-supplied skies (skymethod 'user', jwst 3.0): a two-column file name / sky list.

As the step reads it: whitespace-separated columns, the sky rounded to
float32, file names compared by stem with a known pipeline suffix removed
(``jw..._nrca1_cal.fits`` and ``jw..._nrca1`` name the same exposure). Every
input file must be named exactly once and no unknown file may be named;
problems are found at start, before any job, and name the skylist line.
A one-line skylist is accepted (the step fails on it with a TypeError).
"""

from pathlib import Path

import numpy as np

from skymatchflow.errors import InputError
from skymatchflow.io.inputs import file_stem

# Suffixes of JWST (and HST) pipeline products that the step's remove_suffix drops.
KNOWN_SUFFIXES = {
    "cal", "calints", "crf", "crfints", "rate", "rateints", "uncal", "i2d", "s2d", "s3d", "x1d",
    "x1dints", "bsub", "bsubints", "flt", "flc", "drz", "drc",
}


def exposure_stem(name):
    """File stem without a known pipeline suffix (``a_nrca1_cal.fits`` -> ``a_nrca1``)."""
    stem = file_stem(name)
    head, _, tail = stem.rpartition("_")
    return head if head and tail.lower() in KNOWN_SUFFIXES else stem


def read_skylist(path, files):
    """{input file: sky (float32-rounded)} for the ``files`` of the run."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise InputError(path, f"skylist cannot be read ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise InputError(path, f"skylist is not UTF-8 text (byte {err.start})") from None
    wanted = {}
    for file in files:
        wanted.setdefault(exposure_stem(file), []).append(file)
    for stem, same in wanted.items():
        if len(same) > 1:
            raise InputError(path, f"input files {same} have the same name stem {stem!r}; a skylist cannot tell them apart")
    skies = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise InputError(path, f"line {number}: expected 'file sky', got {line.strip()!r}")
        name, value = fields
        try:
            with np.errstate(over="ignore"):  # beyond float32: refused just below
                sky = float(np.float32(float(value)))
        except ValueError:
            raise InputError(path, f"line {number}: sky {value!r} is not a number") from None
        if not np.isfinite(sky):
            raise InputError(path, f"line {number}: sky {value!r} is not a finite number (in float32)")
        stem = exposure_stem(name)
        if stem not in wanted:
            raise InputError(path, f"line {number}: {name!r} is not an input file")
        file = wanted[stem][0]
        if file in skies:
            raise InputError(path, f"line {number}: {name!r} is named twice")
        skies[file] = sky
    missing = sorted(set(files) - set(skies))
    if missing:
        raise InputError(path, f"no sky for {len(missing)} input file(s), e.g. {missing[0]}")
    return skies
