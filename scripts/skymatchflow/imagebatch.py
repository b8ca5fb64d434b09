"""One batch of images: footprint, good-pixel mask and whole-image sky per image.

Every Python job pays about a second of imports (astropy.wcs alone), so the
per-image stage runs as a few batch jobs rather than three jobs per image.
A batch is a hash bucket of the image id, so adding an image changes one
batch only. The batch directory is an ``update`` output: the job finds the
products it made before and remakes only those whose recorded parameters or
input checksums differ from what they would be made from now. A new
stepsize thus remakes footprints only, a new dqbits masks and skies, a new
statistic skies only, and a replaced file only that image's products.
"""

import json
import logging
from pathlib import Path

from .buckets import hash_bucket
from .config import stat_kwargs
from .errors import InputError
from .inputs import ImageSpec
from .stagefiles import read_json, sha256_file, software_versions, write_json

PRODUCTS = ("footprint", "mask", "sky")
SUFFIXES = {"footprint": ".footprint.json", "mask": ".mask.fits", "sky": ".sky.json"}


def batch_of_image(image_id, n_batches):
    """The batch of an image: a hash bucket of its id (stable under additions)."""
    return hash_bucket(image_id, n_batches, "i")


def product_path(batch_dir, image_id, product):
    """Where one product of one image lives inside its batch directory."""
    return Path(batch_dir) / f"{image_id}{SUFFIXES[product]}"


def batch_spec(images, config):
    """The spec of one batch: {id: ImageSpec} of its images and the full config.

    Everything its products depend on, as one dict (the rule's params, so a
    change re-runs the batch); 'user' needs footprints only.
    """
    return {
        "images": {image: spec.as_params() for image, spec in images.items()},
        "products": ["footprint"] if config["skymethod"] == "user" else list(PRODUCTS),
        "stepsize": config["stepsize"],
        "groups": config["groups"],
        "dqbits": config["dqbits"],
        "stat": stat_kwargs(config),
    } | _exclusions(config)


def _exclusions(config):
    """{"exclude": ...} when the config excludes regions or masked pixels (issue 19), else {}."""
    from .exclusions import exclusion_params

    params = exclusion_params(config)
    return {"exclude": params} if params else {}


def wanted_provenance(spec_params, cfg, checksums):
    """{product: {"params", "inputs"}}: what each product would be made from now.

    ``checksums`` maps "image" (and "dq" for a separate DQ file) to
    {"path", "sha256"}. A product is kept when its recorded record equals this.
    """
    image_only = {"image": checksums["image"]}
    stat = stat_kwargs(cfg["stat"])
    return {
        "footprint": {
            "params": dict(spec_params, stepsize=cfg["stepsize"], groups=cfg["groups"]),
            "inputs": image_only,
        },
        "mask": {"params": dict(spec_params, dqbits=cfg["dqbits"], **_excl(cfg)), "inputs": checksums},
        "sky": {"params": dict(spec_params, dqbits=cfg["dqbits"], **stat, **_excl(cfg)), "inputs": checksums},
    }


def _excl(cfg):
    return {"exclude": cfg["exclude"]} if cfg.get("exclude") else {}


def _recorded(path, product):
    """The {"params", "inputs"} a product file records, or None if unreadable."""
    try:
        if product == "mask":
            from .maskfile import read_mask_provenance

            record = read_mask_provenance(path)
        else:
            record = read_json(path)["provenance"]
        return {"params": record["params"], "inputs": record["inputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _checksums(spec):
    files = {"image": spec.path, "dq": spec.dq_file}
    return {role: {"path": str(path), "sha256": sha256_file(path)} for role, path in files.items() if path}


def _make_products(spec, todo, wanted, paths):
    """Compute and write the products in ``todo`` for one image (SCI read once)."""
    from .imagesky import whole_image_sky
    from .maskfile import write_mask
    from .stages import footprint_record, sci_and_mask, sky_record

    software = software_versions()
    made = {}
    if "footprint" in todo:
        params = wanted["footprint"]["params"]
        made["footprint"] = footprint_record(spec, params["stepsize"], params["groups"])
    stat = stat_kwargs(wanted["sky"]["params"])
    if "mask" in todo:
        sci, mask = sci_and_mask(spec, wanted["mask"]["params"]["dqbits"], wanted["mask"]["params"].get("exclude"))
        write_mask(paths["mask"], mask, spec.image_id, dict(wanted["mask"], software=software))
        if "sky" in todo:
            made["sky"] = sky_record(spec, sci, mask, stat)
    elif "sky" in todo:
        made["sky"] = whole_image_sky(spec, paths["mask"], stat)
    for product, record in made.items():
        record["provenance"] = dict(wanted[product], software=software)
        write_json(paths[product], record)


def run_image_batch(spec, outdir):
    """Write (or keep) the products of every image of ``spec`` in ``outdir``.

    ``spec``: {"images": {id: ImageSpec params}, "products": [...],
    "stepsize", "groups", "dqbits", "stat": {...}}. Files of images or
    products no longer asked for are removed. Returns {product: (made, kept)}.
    A bad image (InputError) does not stop the others; the errors are logged
    one line each and the last is raised when the batch is done.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    products = [p for p in PRODUCTS if p in spec["products"]]
    counts = {product: [0, 0] for product in products}
    wanted_files, errors = set(), []
    for image_id, params in spec["images"].items():
        image = ImageSpec.from_params(params)
        paths = {p: product_path(outdir, image_id, p) for p in products}
        wanted_files.update(path.name for path in paths.values())
        wanted = as_json(wanted_provenance(params, spec, _checksums(image)))
        todo = {p for p in products if _recorded(paths[p], p) != wanted[p]}
        try:
            _make_products(image, todo, wanted, paths)
        except InputError as err:  # the other images of the batch are still made
            errors.append(err)
            continue
        for product in products:
            counts[product][product not in todo] += 1
    for stale in outdir.iterdir():
        if stale.is_file() and not stale.name.startswith(".") and stale.name not in wanted_files:
            stale.unlink()
    if errors:
        for err in errors[:-1]:
            logging.error("%s", err)
        raise errors[-1]
    return {product: tuple(made_kept) for product, made_kept in counts.items()}


def describe_counts(counts):
    """'footprint 2 made / 5 kept, ...' for the job log."""
    return ", ".join(f"{product} {made} made / {kept} kept" for product, (made, kept) in counts.items())


def as_json(value):
    """A value as a JSON stage file stores it (tuples become lists), to compare with what was recorded."""
    return json.loads(json.dumps(value))
