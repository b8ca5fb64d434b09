"""The image products: their kinds, where they live in a batch directory, their keys, and checked reads.

A product's key follows from the image's spec, the parameters of its kind
and the checksums of the bytes it is made from (made_from); a batch
directory records those checksums (inputs.json), so any later stage can
recompute the keys it expects and read only products sealed under them.
"""

import json
from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.geometry.skyframe import FRAME_RULE
from skymatchflow.io.fitsseal import fits_is_sound
from skymatchflow.products.previews import PREVIEW_SIZE, PREVIEW_WCS
from skymatchflow.products.store import product_key, read_sealed
from skymatchflow.stats.statparams import stat_kwargs

PRODUCTS = ("footprint", "mask", "sky", "preview")
SUFFIXES = {"footprint": ".footprint.json", "mask": ".mask.fits", "sky": ".sky.json", "preview": ".preview.fits"}
INPUT_STATES = "inputs.json"


def product_path(batch_dir, image, product):
    """Where one product of one image lives inside its batch directory."""
    return Path(batch_dir) / f"{image}{SUFFIXES[product]}"


def made_from(spec_params, cfg, checksums):
    """{product: {"params", "inputs"}}: what each product of one image is made from.

    ``checksums`` maps "image" (and "dq" for a separate DQ file) to
    {"path", "sha256"}; ``cfg``: products/ruleparams.made_from_params or
    image_batch_params (stepsize, groups, dqbits, "stat", and under "wcs"
    the wcs policy). The dict keys are hashed into the product keys.
    """
    image_only = {"image": checksums["image"]}
    stat = stat_kwargs(cfg["stat"])
    excl = {"exclude": cfg["exclude"]} if cfg.get("exclude") else {}
    return as_json(
        {
            "footprint": {
                "params": dict(spec_params, stepsize=cfg["stepsize"], groups=cfg["groups"], wcs=cfg["wcs"],
                               frame=FRAME_RULE),
                "inputs": image_only,
            },
            "mask": {"params": dict(spec_params, dqbits=cfg["dqbits"], **excl), "inputs": checksums},
            "sky": {"params": dict(spec_params, dqbits=cfg["dqbits"], **stat, **excl), "inputs": checksums},
            "preview": {
                "params": dict(spec_params, dqbits=cfg["dqbits"], size=cfg.get("preview_size", PREVIEW_SIZE),
                               wcs=PREVIEW_WCS, **excl),
                "inputs": checksums,
            },
        }
    )


def made_from_states(spec_params, cfg, states):
    """made_from, with the checksums taken from the files' states (see pinnedfiles.pinned)."""
    checksums = {role: {"path": s["path"], "sha256": s["sha256"]} for role, s in states.items()}
    return made_from(spec_params, cfg, checksums)


def keys_of(made):
    """{product: key} for what each product is made from (made_from's answer)."""
    return {product: product_key(product, record) for product, record in made.items()}


def product_keys(spec_params, cfg, states):
    """{product: key} of one image's products, from its files' states (see pinnedfiles.pinned)."""
    return keys_of(made_from_states(spec_params, cfg, states))


def read_input_states(batch_dir):
    """{image id: {role: state}} recorded by an image batch, or None when missing or damaged."""
    record = read_sealed(Path(batch_dir) / INPUT_STATES)
    return None if record is None else record["images"]


def read_skipped(batch_dirs):
    """{image: reason} of the bad images the batches skipped (``on_bad_input: skip``), in batch order."""
    skipped = {}
    for batch_dir in batch_dirs:
        record = read_sealed(Path(batch_dir) / INPUT_STATES)
        skipped.update({} if record is None else record.get("skipped", {}))
    return skipped


def repair_hint(batch_dir):
    """The command that remakes a batch directory's files."""
    return f"run: snakemake --forcerun {batch_dir}"


def batch_dir_of_each_image(batch_dirs, images):
    """{image: its batch directory} for ``images`` (input order), from the directories' own records.

    A stage is given the image batch directories as declared inputs; which
    image is in which directory is what each directory's inputs.json says.
    """
    holder = {}
    for batch_dir in batch_dirs:
        states = read_input_states(batch_dir)
        if states is None:
            raise InputError(f"{batch_dir}/{INPUT_STATES}", f"missing or damaged; {repair_hint(batch_dir)}")
        holder.update({image: str(batch_dir) for image in states})
        holder.update({image: str(batch_dir) for image in read_skipped([batch_dir])})
    missing = [image for image in images if image not in holder]
    if missing:
        raise InputError(f"image {missing[0]}", "is in no image batch; run: snakemake --forcerun image_batch")
    return {image: holder[image] for image in images}


def product_is_sound(path, product, key):
    """True when a product file exists, is intact and was made under ``key``."""
    if Path(path).suffix == ".fits":
        return fits_is_sound(path, key)
    return read_sealed(path, key) is not None


def as_json(value):
    """A value as a JSON stage file stores it (tuples become lists), to compare with what was recorded."""
    return json.loads(json.dumps(value))
