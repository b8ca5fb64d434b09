"""Every rule's parameters: one builder per parameter set, for the Snakefile (common.smk) and the jobs alike.

A rule's params decide when it re-runs, and the image parameters are also
hashed into the product keys (products/images.made_from): built in one place,
one parameter set cannot take two values. The dict keys are hashed or stored,
so they keep their names; in code one name means one thing:

- ``wcs_mode``: the config key ``wcs`` ('auto' or 'fits');
- ``wcs_policy``: the mode resolved on this machine ('gwcs' or 'fits'), the
  ``"wcs"`` inside image params and product keys;
- ``wcs_used``: the WCS one image's footprint went through, the ``"wcs"`` of
  its footprint record and of the sky table.

No astropy here: Snakemake imports this module at every start.
"""

from skymatchflow.geometry.skywcs import wcs_policy as resolve_wcs_mode
from skymatchflow.jobs.config import pair_options, stat_kwargs
from skymatchflow.products.images import PRODUCTS
from skymatchflow.products.previews import PREVIEW_SIZE, preview_size

__all__ = [
    "WCS_MODE_DEFAULT",
    "apply_params",
    "audit_params",
    "diagnostics_params",
    "graph_params",
    "image_batch_params",
    "image_settings",
    "made_from_params",
    "pair_batch_params",
    "pair_stat",
    "shared_apply_params",
    "solve_params",
    "wcs_mode",
    "wcs_policy",
    "wcs_used",
]

WCS_MODE_DEFAULT = "auto"  # the schema's default of config key 'wcs'
WCS_USED_DEFAULT = "fits"  # what a footprint record made before issue 20 (no "wcs") went through


def wcs_mode(config):
    """The config's WCS mode: 'auto' or 'fits' (config key ``wcs``)."""
    return config.get("wcs", WCS_MODE_DEFAULT)


def wcs_policy(config):
    """The WCS mode resolved on this machine: 'gwcs' (a file's gwcs where it has one) or 'fits'."""
    return resolve_wcs_mode(wcs_mode(config))[0]


def wcs_used(footprint_record):
    """The WCS one image's footprint and overlaps went through: 'gwcs' or 'fits' (its record's ``wcs``)."""
    return footprint_record.get("wcs", WCS_USED_DEFAULT)


def _exclusions(config):
    """{"exclude": ...} when the config excludes regions or masked pixels (issue 19), else {}."""
    from skymatchflow.stats.exclusions import exclusion_params

    params = exclusion_params(config)
    return {"exclude": params} if params else {}


def image_settings(config, n_images=None):
    """The per-image parameters every image of a run shares (made once per start; the input files are hashed).

    ``n_images``: the run's image count, which sets the previews' size
    (stages/preview.preview_size); None for the default size. The default
    size is left out, so keys made before issue 28 stay the same.
    """
    size = PREVIEW_SIZE if n_images is None else preview_size(n_images)
    return (
        {
            "stepsize": config["stepsize"],
            "groups": config["groups"],
            "dqbits": config["dqbits"],
            "stat": stat_kwargs(config),
            "wcs": wcs_policy(config),
        }
        | _exclusions(config)
        | ({"preview_size": size} if size != PREVIEW_SIZE else {})
    )


def _image_params(images):
    return {image: spec.as_params() for image, spec in images.items()}


def made_from_params(images, settings):
    """What the product keys of ``images`` ({id: ImageSpec}) are computed from (products/images.made_from)."""
    return {"images": _image_params(images)} | settings


def image_batch_params(images, config, settings=None, refused=None):
    """Everything one image batch's products depend on, as one dict (the job's spec: stages/image_batch).

    'user' needs footprints only. ``settings``: image_settings of the run
    (made from ``config`` when None). ``refused``: {image: line} of its images
    refused at start (``on_bad_input: skip``), which the batch records as
    skipped without reading them.
    """
    settings = image_settings(config) if settings is None else settings
    shared = {name: settings[name] for name in ("stepsize", "groups", "wcs", "dqbits", "stat")}
    skip = config.get("on_bad_input", "stop") == "skip"
    return (
        {"images": _image_params(images)}
        | {"products": ["footprint"] if config["skymethod"] == "user" else list(PRODUCTS)}
        | shared
        | ({"exclude": settings["exclude"]} if "exclude" in settings else {})
        | ({"on_bad_input": "skip"} if skip else {})
        | ({"refused": dict(refused)} if refused else {})
        | ({"preview_size": settings["preview_size"]} if "preview_size" in settings else {})
    )


def pair_stat(config):
    """The pair statistic's parameters: the reference's, plus the opt-in pair options (none by default)."""
    return stat_kwargs(config) | pair_options(config)


def graph_params(config, made_from, pair_batch_of, code):
    """The overlap graph's: what every footprint is checked against, what every plan holds besides its pairs,
    and the pair batch of the pairs each image leads ({image: batch}, jobs/batches.assign_image_batches)."""
    return {"made_from": made_from, "stat": pair_stat(config), "pair_batches": config["pair_batches"],
            "pair_batch_of": pair_batch_of, "code": code}


def pair_batch_params(code, image_code):
    """What every pair batch depends on besides its plan and its members' files: its code and the image stage's.

    The image stage's code, because the pair batch reads its members' products
    by key without the image batches as inputs (their keys follow from that code).
    """
    return {"code": code, "image_code": image_code}


def solve_params(config, made_from, code):
    """The solve's parameters, what it checks its stage files against, and the whole config for the tables' metadata.

    Which pair is in which pair batch is not here: the plans decided it (the
    solve reads them, products/checked.read_checked_pairs).
    """
    return {
        "skymethod": config["skymethod"],
        "match_down": config["match_down"],
        "subtract": config["subtract"],
        "made_from": made_from,
        "products": ["footprint"] if config["skymethod"] == "user" else ["footprint", "sky"],
        "pair_stat": pair_stat(config),
        "config": dict(config),
        "code": code,
    }


def audit_params(config, made_from, code):
    """What the audit checks results against: the solve's params, with the audit's own code."""
    return solve_params(config, made_from, code) | {"code": code}


def shared_apply_params(config, code):
    """What every matched copy depends on besides the sky table and its own file."""
    return {"skymethod": config["skymethod"], "subtract": config["subtract"], "code": code}


def apply_params(config, file, code):
    """What one matched copy depends on besides the sky table."""
    return {"file": file} | shared_apply_params(config, code)


def diagnostics_params(config, images, code):
    """The images in input order, and whether they have previews (not with skymethod 'user')."""
    return {"images": list(images), "previews": config["skymethod"] != "user", "code": code}
