"""The reference engine (stcal 1.20 ``skymatch``) on the same inputs and config as the workflow.

Sets the engine up as jwst 3.0.0's ``SkyMatchStep.process`` / ``_imodel2skyim``
do (see /work/shared/docs/skymatch-algorithm.md sections 1, 5 and 10):

* SCI as float32, DQ as uint32; the good-pixel mask is
  ``bitfield_to_boolean_mask(dq, interpret_bit_flags(dqbits, flag_name_map=JWST
  pixel flags), good_mask_value=True) & isfinite(sci)``, or ``isfinite(sci)``
  alone when dqbits is None (or the image has no DQ);
* the image's celestial astropy WCS (built from the header exactly as the
  workflow builds it), wrapped as ``wcs_fwd``/``wcs_inv`` with
  ``all_pix2world(x, y, 0)`` / ``all_world2pix(ra, dec, 0)``;
* one ``SkyStats(skystat, lower, upper, nclip, lsig, usig, binwidth)`` for all
  images, and ``stepsize``;
* sky groups in order of first appearance; a one-member group is passed as
  the bare ``SkyImage``, a group of >= 2 as ``SkyGroup(images, sky_id=ordinal)``;
* initial ``sky`` = the previous BKGLEVEL when ``subtract`` is true, after
  the step's consistency checks of BKGLEVEL/BKGSUB (ValueError otherwise);
* after ``skymatch()``: status COMPLETE if ``is_sky_valid`` else SKIPPED,
  level = ``image.sky``.

Only input *discovery* (which files and extensions, and their image ids) is
taken from the package (``skymatchflow.io.inputs.discover_images``), so both
sides are keyed by the same ids; pixels, DQ, WCS, groups and previous levels
are read here independently with astropy.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from astropy.io import fits
from astropy.nddata.bitmask import bitfield_to_boolean_mask, interpret_bit_flags
from astropy.wcs import WCS, FITSFixedWarning
from stcal.skymatch import skymatch as stcal_skymatch
from stcal.skymatch.skyimage import SkyGroup, SkyImage
from stcal.skymatch.skystatistics import SkyStats
from stdatamodels.jwst.datamodels.dqflags import pixel as JWST_PIXEL

from helpers.config import schema_defaults
from skymatchflow.io.inputs import discover_images, file_stem, parse_extension

# jwst datamodels.utils.group_id.attrs_to_group_id, with meta.observation's
# FITS keywords.
JWST_GROUP_KEYWORDS = ("PROGRAM", "OBSERVTN", "VISIT", "VISITGRP", "SEQ_ID", "ACT_ID", "EXPOSURE")

DEFAULT_CONFIG = schema_defaults()
DEFAULT_CONFIG.pop("demo")
DEFAULT_CONFIG.update(images=None, image_sheet=None, associations=None)


def full_config(**overrides):
    """A complete config (every key present, as after validation)."""
    unknown = set(overrides) - set(DEFAULT_CONFIG)
    if unknown:
        raise KeyError(f"unknown config keys {sorted(unknown)}")
    return dict(DEFAULT_CONFIG, **overrides)


@dataclass
class RefInput:
    """One image as the step would see it."""

    image: str
    sci: np.ndarray  # float32
    dq: object  # uint32 array or None
    wcs: WCS
    group: str
    level: object  # previous BKGLEVEL (None when absent)
    subtracted: object  # previous BKGSUB (None when absent)


def _group(spec, primary, sci_header, grouping):
    """The group id written out again from the JWST rule (the oracle does not reuse readers.group_id)."""
    if spec.group:
        return spec.group
    if grouping == "none":
        return spec.image
    if grouping == "exposure":
        values = [primary.get(k) for k in JWST_GROUP_KEYWORDS]
        if all(v is not None for v in values):
            prog, obs, visit, vgroup, seq, act, expo = (str(v).strip() for v in values)
            return f"jw{prog}{obs}{visit}_{vgroup}{seq}{act}_{expo}"
        return file_stem(spec.file)  # the project's rule for non-JWST files
    for header in (primary, sci_header):
        if grouping in header:
            return str(header[grouping]).strip()
    raise KeyError(grouping)


def read_inputs(config):
    """RefInput for every image of the config, in input order."""
    inputs = []
    for spec in discover_images(config).values():
        with fits.open(spec.file, memmap=False) as hdul:
            hdu = hdul[parse_extension(spec.sci)]
            sci = np.array(hdu.data, dtype=np.float32)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                wcs = WCS(hdu.header, fobj=hdul, relax=True).celestial
            dq = None
            if not spec.dq_file:
                dq_ext = spec.dq
                if dq_ext == "auto":
                    dq_ext = ("DQ", hdu.ver) if ("DQ", hdu.ver) in hdul else ""
                if dq_ext:
                    dq = np.array(hdul[parse_extension(dq_ext) if isinstance(dq_ext, str) else dq_ext].data, dtype=np.uint32)
            primary = hdul[0].header
            group = _group(spec, primary, hdu.header, config["groups"])
            level = primary.get("BKGLEVEL")
            subtracted = primary.get("BKGSUB")
        if spec.dq_file:
            with fits.open(spec.dq_file, memmap=False) as dq_hdul:
                if spec.dq not in ("", "auto"):
                    dq_hdu = dq_hdul[parse_extension(spec.dq)]
                else:
                    dq_hdu = next(h for h in dq_hdul if h.header.get("NAXIS", 0) == 2)
                dq = np.array(dq_hdu.data, dtype=np.uint32)
        inputs.append(RefInput(spec.image, sci, dq, wcs, group, level, subtracted))
    return inputs


def good_mask(sci, dq, dqbits):
    """The step's mask (jwst ``_imodel2skyim``)."""
    bits = interpret_bit_flags(dqbits, flag_name_map=JWST_PIXEL)
    finite = np.isfinite(sci)
    if bits is None or dq is None:
        return finite
    return bitfield_to_boolean_mask(dq, bits, good_mask_value=True) & finite


def initial_level(inp, subtract):
    """The step's consistency rules for an earlier run's BKGLEVEL/BKGSUB."""
    level, subtracted = inp.level, inp.subtracted
    if subtracted is None:
        if level is not None:
            raise ValueError(f"{inp.image}: BKGLEVEL without BKGSUB")
        level = 0.0
    elif level is None:
        raise ValueError(f"{inp.image}: BKGSUB without BKGLEVEL")
    if subtracted is not None and bool(subtracted) != subtract:
        raise ValueError(f"{inp.image}: 'subtract' step's specification is inconsistent")
    return float(level) if subtract else 0.0


def build_sky_objects(config, inputs=None):
    """(list of SkyImage/SkyGroup as the step builds them, {image id: SkyImage}, inputs)."""
    inputs = read_inputs(config) if inputs is None else inputs
    stats = SkyStats(
        skystat=config["skystat"], lower=config["lower"], upper=config["upper"], nclip=config["nclip"],
        lsig=config["lsigma"], usig=config["usigma"], binwidth=config["binwidth"],
    )
    groups = {}
    by_id = {}
    for index, inp in enumerate(inputs):
        wcs = inp.wcs

        def fwd(x, y, with_bounding_box=False, wcs=wcs):
            return wcs.all_pix2world(x, y, 0)

        def inv(ra, dec, with_bounding_box=False, wcs=wcs):
            return wcs.all_world2pix(ra, dec, 0)

        image = SkyImage(
            image=inp.sci.copy(), mask=good_mask(inp.sci, inp.dq, config["dqbits"]),
            wcs_fwd=fwd, wcs_inv=inv, skystat=stats, sky_id=inp.image,
            stepsize=config["stepsize"], meta={"index": index},
        )
        image.sky = initial_level(inp, config["subtract"])
        by_id[inp.image] = image
        groups.setdefault(inp.group, []).append(image)
    objects = [
        members[0] if len(members) == 1 else SkyGroup(members, sky_id=ordinal)
        for ordinal, members in enumerate(groups.values())
    ]
    return objects, by_id, inputs


def run_reference(config, inputs=None):
    """{image id: (level, status)} from stcal's skymatch on the config's inputs.

    Exceptions of the reference (e.g. its TypeError in 'global' when an image
    without a sky follows one with a sky) propagate.
    """
    objects, by_id, _ = build_sky_objects(config, inputs)
    stcal_skymatch(objects, skymethod=config["skymethod"], match_down=config["match_down"],
                   subtract=config["subtract"])
    return {
        name: (float(image.sky), "COMPLETE" if image.is_sky_valid else "SKIPPED")
        for name, image in by_id.items()
    }


def noise_sigma(inp, dqbits):
    """Robust noise of an image: 1.4826 * MAD of its good pixels (finite ones if none is good).

    Never below float32 resolution at the image's level (a constant image has
    MAD 0; parity there must then hold to float32 rounding). None when the
    image has no finite pixel at all.
    """
    values = inp.sci[good_mask(inp.sci, inp.dq, dqbits)]
    if values.size == 0:
        values = inp.sci[np.isfinite(inp.sci)]
    if values.size == 0:
        return None
    values = values.astype(np.float64)
    median = float(np.median(values))
    mad = 1.4826 * float(np.median(np.abs(values - median)))
    return max(mad, float(np.finfo(np.float32).eps) * max(1.0, abs(median)))
