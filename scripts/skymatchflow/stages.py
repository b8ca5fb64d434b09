"""The per-image stage records, shared by the rule entry points and the in-process runner."""

import logging

import numpy as np

from .errors import InputError
from .footprint import footprint_polygon, polygon_to_dict
from .readers import group_id, previous_background, read_header, read_sci_dq


def footprint_record(spec, stepsize, grouping):
    """One image's footprint record (without provenance): polygon, group, previous background."""
    header = read_header(spec)
    polygon, ra, dec = footprint_polygon(header.shape, header.wcs, stepsize)
    if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
        raise InputError(spec.path, f"extension {spec.sci!r}: the WCS gives no sky position for the image outline")
    return {
        "image": spec.image_id,
        "file": spec.path,
        "sci": spec.sci,
        "group": group_id(spec, header.primary, header.sci, grouping),
        "shape": list(header.shape),
        "background": previous_background(header.primary, header.sci),
        "stepsize": stepsize,
        "ra": ra.tolist(),
        "dec": dec.tolist(),
        "area_sr": abs(float(polygon.area())),
        "polygon": polygon_to_dict(polygon),
    }


def image_mask(spec, dqbits):
    """One image's good-pixel mask; an image with no good pixel is logged, not an error."""
    from .dqflags import good_pixel_mask, interpret_dqbits  # heavy: only the mask job needs it

    sci, dq = read_sci_dq(spec)
    mask = good_pixel_mask(sci, dq, interpret_dqbits(dqbits))
    if not mask.any():
        logging.warning(
            "%s[%s]: every pixel is masked (dqbits=%r); this image will get no sky and be SKIPPED",
            spec.path, spec.sci, dqbits,
        )
    return mask
