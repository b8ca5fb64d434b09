"""What the input files' headers reveal, refused at Snakemake start, before any job.

A WCS value that is not a finite number, a singular pixel matrix or a
missing extension would otherwise fail a whole image batch inside a cluster
job (25 images, a queue wait and two Snakemake starts), after the other
batches ran. The checks read headers only, once per file and layout: the
layout cache remembers a file that passed while it is unchanged, so later
starts (every cluster job's among them) open nothing.
"""

from skymatchflow.errors import InputError, InputErrors
from skymatchflow.geometry.skycells import header_position
from skymatchflow.io.inputs import AUTO_DQ


def _check_file(path, specs):
    """Check one file's headers; {sci: header_place} of its images (what batches them by sky cell and size)."""
    # here, not at the top: Snakemake imports this module at every start
    from skymatchflow.io.readers import _hdu, _open, check_dq_header, check_image_header

    positions = {}
    with _open(path) as hdul:
        for spec in specs:
            check_image_header(hdul, path, spec.sci)
            if spec.dq not in ("", AUTO_DQ) and not spec.dq_file:
                check_dq_header(hdul, path, spec.dq)
            positions[spec.sci] = header_place(_hdu(hdul, path, spec.sci).header)
    return positions


def header_place(header):
    """{"position": [ra, dec, size] or None, "pixels": NAXIS1 x NAXIS2}: where an image lies and its size."""
    position = header_position(header)
    return {
        "position": None if position is None else list(position),
        "pixels": int(header.get("NAXIS1", 0) or 0) * int(header.get("NAXIS2", 0) or 0),
    }


def locate(path, sci):
    """header_place of one image; {"position": None, "pixels": 0} for a missing or unreadable file."""
    from skymatchflow.io.readers import _hdu, _open

    try:
        with _open(path) as hdul:
            return header_place(_hdu(hdul, path, sci).header)
    except (OSError, InputError):
        return {"position": None, "pixels": 0}


def image_places(images, layouts, unknown=()):
    """{image id: header_place}: where each image lies and its pixel count, from the layout cache (the header
    checks filled it; a start that ran none reads each missing header once). ``unknown``: images (or paths)
    left unplaced, {"position": None, "pixels": 0}: files a rule makes, refused files."""
    places = {}
    for image, spec in images.items():
        places[image] = {"position": None, "pixels": 0}
        if image not in unknown and spec.file not in unknown:
            try:
                places[image] = layouts.place(spec.file, spec.sci, locate)
            except FileNotFoundError:  # a listed file missing: the start's checks say so
                pass
    return places


def _remember_places(layouts, path, places):
    for sci, place in places.items():
        layouts.remember_place(path, sci, place)


def check_headers(images, layouts=None, refused=None):
    """Refuse every input file whose headers show it cannot be used: one line per file.

    ``images``: {image id: ImageSpec}; files a rule has yet to make are left
    to their job. ``layouts`` (a LayoutCache) skips files that passed before.
    ``refused`` (a dict, ``on_bad_input: skip``): the bad files' lines go
    there ({path: line}) instead of stopping; files already in it are not read.
    """
    per_file = {}
    for spec in images.values():
        per_file.setdefault(spec.file, []).append(spec)
    errors, bad_paths = [], []
    for path, specs in per_file.items():
        if refused is not None and path in refused:
            continue
        key = "|".join(f"{spec.sci}/{spec.dq}/{spec.dq_file}" for spec in specs)
        try:
            if layouts is not None:
                layouts.checked(path, key, lambda p, specs=specs: _remember_places(layouts, p, _check_file(p, specs)))
            else:
                _check_file(path, specs)
        except FileNotFoundError:
            continue
        except InputError as err:
            if "file not found" not in err.reason:
                errors.append(err)
                bad_paths.append(path)
    if errors and refused is not None:
        refused.update({path: str(err) for path, err in zip(bad_paths, errors)})
    elif errors:
        raise InputErrors(errors)
