"""Exclusions (``exclude``): sky regions and per-image masks kept out of every statistic.

Why: artefacts (the MIRI Lyot region, glints, persistence, a satellite
trail) bias the overlap statistics of the pairs they fall in, and DQ does
not flag them. The config's ``exclude`` names

* ``regions``: region files in sky coordinates (DS9 ``.reg`` or CASA
  ``.crtf``, read with astropy's ``regions``); every pixel whose centre lies
  inside a region is removed from every image's good-pixel mask;
* ``masks``: {image id or input file name: FITS mask file}, an array of the
  image's shape in the first image HDU, non-zero = exclude.

They change the good-pixel masks, so the whole-image skies and every pair
statistic drop those pixels. The files' checksums are part of what a mask is
made from, so editing a region file remakes the masks.
"""

from pathlib import Path

import numpy as np

from skymatchflow.errors import InputError
from skymatchflow.io.stagefiles import sha256_file

REGION_FORMATS = {".reg": "ds9", ".crtf": "crtf"}


def _file_record(key, path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config key '{key}'", f"{path}: no such file")
    return {"path": str(path), "sha256": sha256_file(path)}


def exclusion_params(config):
    """What the masks' exclusions are made of (paths and checksums), or None without ``exclude``.

    Raises InputError naming the key for a missing file or an unknown region format.
    """
    exclude = config.get("exclude") or {}
    regions = []
    for path in exclude.get("regions") or []:
        if Path(path).suffix.lower() not in REGION_FORMATS:
            raise InputError("config key 'exclude.regions'", f"{path}: use a DS9 .reg or CASA .crtf file")
        regions.append(_file_record("exclude.regions", path))
    masks = {name: _file_record(f"exclude.masks.{name}", path) for name, path in (exclude.get("masks") or {}).items()}
    if not regions and not masks:
        return None
    return {"regions": regions, "masks": masks}


def read_sky_regions(path):
    """The sky regions of one region file (pixel regions are refused: they belong to one image)."""
    from regions import Regions, SkyRegion

    try:
        regions = Regions.read(path, format=REGION_FORMATS[Path(path).suffix.lower()])
    except Exception as err:  # regions raises several parser error types
        raise InputError(path, f"not a readable region file ({err})") from None
    for region in regions:
        if not isinstance(region, SkyRegion):
            raise InputError(path, f"{type(region).__name__} is in pixel coordinates; give sky coordinates")
    return list(regions)


def excluded_pixels(spec, shape, wcs, exclusions):
    """Bool array of ``shape``: pixels of image ``spec`` that ``exclusions`` remove."""
    out = np.zeros(shape, dtype=bool)
    if not exclusions:
        return out
    for record in exclusions["regions"]:
        for region in read_sky_regions(record["path"]):
            pixel_region = region.to_pixel(wcs)
            mask = pixel_region.to_mask(mode="center")
            image = mask.to_image(shape)
            if image is not None:
                out |= image.astype(bool)
    for name in (spec.image, Path(spec.file).name):
        if name in exclusions["masks"]:
            from astropy.io import fits

            path = exclusions["masks"][name]["path"]
            with fits.open(path, mode="readonly") as hdul:
                data = next((h.data for h in hdul if h.is_image and h.data is not None), None)
            if data is None or data.shape != tuple(shape):
                got = None if data is None else data.shape
                raise InputError(path, f"mask for {name} has shape {got}, the image {tuple(shape)}")
            out |= np.asarray(data) != 0
            break
    return out
