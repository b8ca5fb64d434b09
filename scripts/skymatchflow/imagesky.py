"""Whole-image sky: the statistic of all good pixels of one image.

This is the reference's ``SkyImage.calc_sky(overlap=None)``, which the local
and global methods use (a group's local sky is the minimum over its members,
taken in the solve stage).
"""

import logging

from .config import stat_kwargs
from .errors import InputError
from .imagestats import sky_statistic
from .maskfile import read_mask
from .readers import read_sci


def whole_image_sky(spec, mask_path, params):
    """{"image", "sky", "npix", "reason"}: sky None (with a reason) when there is no value."""
    sci = read_sci(spec)
    mask = read_mask(mask_path)
    if mask.shape != sci.shape:
        raise InputError(mask_path, f"mask shape {mask.shape} differs from SCI shape {sci.shape} of {spec.path}")
    stat = sky_statistic(sci[mask], **stat_kwargs(params))
    if stat.value is None:
        logging.warning("%s[%s]: no whole-image sky: %s", spec.path, spec.sci, stat.reason)
    return {
        "image": spec.image_id,
        "sky": None if stat.value is None else float(stat.value),
        "npix": int(stat.npix) if stat.value is not None else 0,
        "reason": stat.reason,
    }
