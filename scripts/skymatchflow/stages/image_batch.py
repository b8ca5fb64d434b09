"""One batch of images: footprint, good-pixel mask and whole-image sky per image.

Every Python job pays about a second of imports (astropy.wcs alone), so the
per-image stage runs as a few batch jobs rather than three jobs per image.
An image's batch is that of the sky cell it lies in (or of its id), so
adding an image changes one batch only, the one of its cell. The batch directory is an ordinary output, remade whole by each
job; its products are hard links into the product store (products/), so a
product whose key (parameters, input checksums, code version) is unchanged
is linked, not computed. A new stepsize thus computes footprints only, a new
dqbits masks and skies, a new statistic skies only, and a replaced file only
that image's products.

Beside the products, ``inputs.json`` records the state (checksum and stat
signature) of every file the batch read, so later stages can tell that an
input changed after its products were made.
"""

import contextlib
import logging
import os
from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.io.pinnedfiles import pinned
from skymatchflow.io.stagefiles import atomic_directory, software_versions
from skymatchflow.jobs.progress import tracked
from skymatchflow.products.images import (
    INPUT_STATES,
    PRODUCTS,
    SUFFIXES,
    keys_of,
    made_from_states,
    product_is_sound,
    product_path,
)
from skymatchflow.products.store import STORE_DIR, link_into, prune_unlinked, stored_path, write_sealed
from skymatchflow.stages.preview import write_image_preview
from skymatchflow.stats.statparams import stat_kwargs


def input_files(spec):
    """{"image": path, "dq": path}: the files an image is read from (no "dq" without a separate DQ file)."""
    return {"image": spec.file, "dq": spec.dq_file}


def _products_of_one_image(image, params, spec, products, store):
    """(states, stored paths, products made) of one image, its files hashed and read through one open file each.

    Products made from a file that changed while it was read are removed
    again (they were filed under the checksum of other bytes).
    """
    todo = set()
    try:
        with pinned(input_files(image)) as states:
            made = made_from_states(params, spec, states)
            keys = keys_of(made)
            stored = {p: stored_path(store, "images", image.image, keys[p], SUFFIXES[p]) for p in products}
            todo = {p for p in products if not product_is_sound(stored[p], p, keys[p])}
            _make_products(image, todo, made, keys, stored)
    except InputError:
        for product in todo:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stored[product])
        raise
    return states, stored, todo


def _make_products(spec, todo, made, keys, paths):
    """Compute and store the products in ``todo`` for one image (header and SCI read once)."""
    from skymatchflow.io.maskfile import write_mask
    from skymatchflow.io.readers import read_header
    from skymatchflow.stages._image_products import footprint_record, sci_and_mask, sky_record
    from skymatchflow.stages._image_sky import whole_image_sky

    software = software_versions()
    records = {}
    header = None
    if "footprint" in todo:
        params = made["footprint"]["params"]
        wcs_policy = params["wcs"]
        header = read_header(spec, wcs_policy)
        records["footprint"] = footprint_record(spec, params["stepsize"], params["groups"], wcs_policy, header)
    stat = stat_kwargs(made["sky"]["params"])
    if "mask" in todo or "preview" in todo:
        mask_params = made["mask"]["params"]
        if header is None and ("preview" in todo or mask_params.get("exclude")):
            header = read_header(spec)  # its FITS WCS is all the mask and preview use
        sci, mask = sci_and_mask(spec, mask_params["dqbits"], mask_params.get("exclude"), header)
        if "mask" in todo:
            provenance = dict(made["mask"], key=keys["mask"], software=software)
            write_mask(paths["mask"], mask, spec.image, provenance, keys["mask"])
        if "preview" in todo:
            provenance = dict(made["preview"], key=keys["preview"], software=software)
            write_image_preview(paths["preview"], header, sci, mask, spec.image, provenance, keys["preview"],
                                made["preview"]["params"]["size"])
        if "sky" in todo:
            records["sky"] = sky_record(spec, sci, mask, stat)
    elif "sky" in todo:
        records["sky"] = whole_image_sky(spec, paths["mask"], stat)
    for product, record in records.items():
        record.update(key=keys[product], provenance=dict(made[product], software=software))
        write_sealed(paths[product], record)


def run_image_batch(spec, outdir, store=STORE_DIR):
    """Link (computing where needed) the products of every image of ``spec`` into ``outdir``.

    ``spec``: products/ruleparams.image_batch_params ({"images": {id: ImageSpec
    params}, "products": [...], "stepsize", "groups", "wcs", "dqbits", "stat": {...}}). ``outdir`` appears whole
    (made beside it, then renamed) or not at all. Returns {product: (made,
    kept)}. A bad image (InputError) does not stop the others, whose
    products go to the store; the errors are logged one line each and the
    last is raised when the batch is done, leaving no ``outdir``. With
    ``spec["on_bad_input"] == "skip"`` the batch ends normally instead and
    records each bad image's reason in inputs.json (``read_skipped``).
    """
    products = [p for p in PRODUCTS if p in spec["products"]]
    counts = {product: [0, 0] for product in products}
    errors, states_by_image = [], {}
    skip = spec.get("on_bad_input", "stop") == "skip"
    with atomic_directory(outdir) as building:
        # a log line every 5 %, with the batch's name, images per second and the time left
        refused = spec.get("refused", {})  # refused at start (on_bad_input: skip): not read
        errors = [(image, reason) for image, reason in refused.items()]
        todo_images = [(i, params) for i, params in spec["images"].items() if i not in refused]
        for image, params in tracked(todo_images, "images", name=Path(outdir).name, stage="images"):
            image_spec = ImageSpec.from_params(params)
            try:
                states, stored, todo = _products_of_one_image(image_spec, params, spec, products, store)
            except InputError as err:  # the other images of the batch are still made
                errors.append((image, err))
                continue
            states_by_image[image] = states
            for product in products:
                link_into(stored[product], product_path(building, image, product))
                counts[product][product not in todo] += 1
            prune_unlinked(Path(store) / "images" / image, stored.values())
        if errors and not skip:
            for _, err in errors[:-1]:
                logging.error("%s", err)
            raise errors[-1][1]
        record = {"images": states_by_image}
        if errors:  # on_bad_input: skip
            for _, err in errors:
                logging.warning("SKIPPED (on_bad_input: skip): %s", err)
            record["skipped"] = {image: str(err) for image, err in errors}
        write_sealed(building / INPUT_STATES, record)
    return {product: tuple(made_kept) for product, made_kept in counts.items()}


def describe_counts(counts):
    """'footprint 2 made / 5 kept, ...' for the job log."""
    return ", ".join(f"{product} {made} made / {kept} kept" for product, (made, kept) in counts.items())
