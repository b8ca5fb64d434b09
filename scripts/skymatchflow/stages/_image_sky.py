"""Whole-image sky of one image from its SCI and a mask file (see stages/_image_products.sky_record)."""

from skymatchflow.errors import InputError
from skymatchflow.io.maskfile import read_mask
from skymatchflow.io.readers import read_sci
from skymatchflow.stages._image_products import sky_record


def whole_image_sky(spec, mask_path, params):
    """{"image", "sky", "npix", "reason"}: sky None (with a reason) when there is no value."""
    sci = read_sci(spec)
    mask = read_mask(mask_path)
    if mask.shape != sci.shape:
        raise InputError(mask_path, f"mask shape {mask.shape} differs from SCI shape {sci.shape} of {spec.file}")
    return sky_record(spec, sci, mask, params)
