"""The per-image stage records, shared by the rule entry points and the in-process runner."""

import logging
import math

import numpy as np

from skymatchflow.errors import InputError
from skymatchflow.geometry.footprint import footprint_polygon, polygon_to_dict
from skymatchflow.io.readers import group_id, previous_background, read_header, read_sci_dq
from skymatchflow.stats.statparams import stat_kwargs


def footprint_record(spec, stepsize, grouping, wcs_policy="fits", header=None):
    """One image's footprint record (without provenance): polygon, group, previous background, WCS used.

    ``header``: the image's readers.ImageHeader under ``wcs_policy``, when the caller already read it.
    """
    header = header or read_header(spec, wcs_policy)
    polygon, ra, dec = footprint_polygon(header.shape, header.wcs, stepsize)
    if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
        raise InputError(spec.file, f"extension {spec.sci!r}: the WCS gives no sky position for the image outline")
    area = abs(float(polygon.area()))
    if not (math.isfinite(area) and area > 0.0):
        raise InputError(spec.file, f"extension {spec.sci!r}: the footprint through the WCS has no area on the sky")
    try:
        background = previous_background(header.primary, header.sci)
    except ValueError as err:  # refused here, before any pixel work, not in the solve
        raise InputError(f"{spec.file}[{spec.sci}]", str(err)) from None
    return {
        "image": spec.image,
        "file": spec.file,
        "sci": spec.sci,
        "group": group_id(spec, header.primary, header.sci, grouping),
        "shape": list(header.shape),
        "background": background,
        "stepsize": stepsize,
        "wcs": header.wcs_kind,
        "wcs_reason": header.wcs_reason,
        "ra": ra.tolist(),
        "dec": dec.tolist(),
        "area_sr": area,
        "polygon": polygon_to_dict(polygon),
    }


def sci_and_mask(spec, dqbits, exclude=None, header=None):
    """(SCI, good-pixel mask) of one image; no good pixel at all is logged, not an error.

    ``exclude``: exclusions.exclusion_params (regions and mask files), removed from the mask.
    ``header``: the image's readers.ImageHeader, when the caller already read it.
    """
    from skymatchflow.stats.dqflags import good_pixel_mask, interpret_dqbits  # heavy: only mask making needs it

    sci, dq = read_sci_dq(spec)
    mask = good_pixel_mask(sci, dq, interpret_dqbits(dqbits))
    if exclude:
        from skymatchflow.stats.exclusions import excluded_pixels

        mask &= ~excluded_pixels(spec, sci.shape, (header or read_header(spec)).fits_wcs, exclude)
    if not mask.any():
        logging.warning(
            "%s[%s]: every pixel is masked (dqbits=%r); it has no sky of its own "
            "(SKIPPED unless skymethod has a global stage, which gives it the global sky)",
            spec.file, spec.sci, dqbits,
        )
    return sci, mask


def sky_record(spec, sci, mask, stat_params):
    """Whole-image sky record {"image", "sky", "npix", "reason"} of SCI's good pixels.

    This is the reference's ``SkyImage.calc_sky(overlap=None)``, which the
    local and global methods use; sky None (with a reason) when there is no value.
    """
    from skymatchflow.stats.imagestats import sky_statistic

    stat = sky_statistic(sci[mask], **stat_kwargs(stat_params))
    if stat.value is None:
        logging.warning("%s[%s]: no whole-image sky: %s", spec.file, spec.sci, stat.reason)
    return {
        "image": spec.image,
        "sky": None if stat.value is None else float(stat.value),
        "npix": int(stat.npix) if stat.value is not None else 0,
        "reason": stat.reason,
    }
