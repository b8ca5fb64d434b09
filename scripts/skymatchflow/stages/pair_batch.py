"""One batch of pair statistics: one JSON file per group pair, from the product store.

A pair's key is made from its definition, the statistic's parameters and
its members' footprint and mask keys, which follow from the image specs,
the per-image parameters and the input checksums an image batch recorded
(products/members.py). A pair found sound under its key in the store is
linked into the batch directory; any other is computed, after checking
that the products it reads are intact and were made under the keys
expected, and that the image files did not change since.
"""

import logging
from pathlib import Path

from skymatchflow.io.openfiles import held_files_closed, held_fits_is_sound
from skymatchflow.io.stagefiles import atomic_directory, read_json, software_versions
from skymatchflow.jobs.progress import tracked
from skymatchflow.products.images import batch_dir_of_each_image, product_path
from skymatchflow.products.members import (
    MemberKeys,
    check_unchanged,
    checked_product,
    members_made_from,
    pair_key,
    unsound_product,
)
from skymatchflow.products.ruleparams import wcs_used
from skymatchflow.products.store import STORE_DIR, link_into, prune_unlinked, read_sealed, stored_path, write_sealed


def pair_batch_spec(pairs, made_from, image_batches):
    """{"pairs", "images": {id: {"file", "sci", "footprint", "mask", "batch_dir"}}} of one pair batch.

    The member images' products are found in the image batch directories the
    job declares as inputs (``image_batches``), not in parameters.
    """
    images = made_from["images"]
    dirs = batch_dir_of_each_image(image_batches, list(images))
    return {
        "pairs": pairs,
        "images": {
            image: {
                "file": images[image]["file"],
                "sci": images[image]["sci"],
                "footprint": str(product_path(dirs[image], image, "footprint")),
                "mask": str(product_path(dirs[image], image, "mask")),
                "batch_dir": dirs[image],
            }
            for image in images
        },
    }


def run_batch(cfg, outdir, store=STORE_DIR):
    """Link (computing where needed) every pair file of a batch into ``outdir``; return (computed, kept).

    ``outdir`` appears whole (made beside it, then renamed) or not at all.

    ``cfg``: the rule's params: "stat", "made_from" (image specs, stepsize,
    groups, dqbits) and "batch" ({"pairs", "images": {id: {"file", "sci",
    "footprint", "mask", "batch_dir"}}}).
    """
    stat_params, spec = cfg["stat"], cfg["batch"]
    member_keys = MemberKeys(cfg["made_from"], spec["images"])
    loaded = {}
    computed = kept = 0
    with atomic_directory(outdir) as building, held_files_closed():
        # a log line every 5 %, with the batch's name, pairs per second and the time left
        for pair in tracked(spec["pairs"], "pairs", name=Path(outdir).name, stage="pairs"):
            key = pair_key(pair, stat_params, member_keys)
            stored = stored_path(store, "pairs", pair["pair"], key, ".json")
            if read_sealed(stored, key) is not None:
                kept += 1
            else:
                record = _compute_pair(pair, stat_params, spec["images"], member_keys, loaded)
                record.update(
                    pair=pair["pair"],
                    key=key,
                    provenance={
                        "params": stat_params,
                        "members": members_made_from(pair, member_keys),
                        "software": software_versions(),
                    },
                )
                if not record["valid"]:
                    logging.warning("pair %s gives no equation: %s", pair["pair"], record["reason"])
                write_sealed(stored, record)
                computed += 1
            link_into(stored, building / f"{pair['pair']}.json")
            prune_unlinked(stored.parent, [stored])
    return computed, kept


def _compute_pair(pair, stat_params, images, member_keys, loaded):
    """The statistics record of one pair; member images are checked and loaded once per batch."""
    from skymatchflow.geometry.footprint import polygon_from_dict  # heavy (WCS, spherical geometry): only when
    from skymatchflow.stats.pairimage import load_pair_image  # a pair is computed
    from skymatchflow.stats.pairstats import pair_record

    for image in pair["members_a"] + pair["members_b"]:
        if image in loaded:
            continue
        info, keys = images[image], member_keys.keys(image)
        footprint = checked_product(info["footprint"], "footprint", keys["footprint"], info["batch_dir"])
        if not held_fits_is_sound(info["mask"], keys["mask"]):  # held open: the pairs read its windows
            raise unsound_product(info["mask"], info["batch_dir"])
        mask = info["mask"]
        check_unchanged(image, member_keys.states(image)["image"])
        record = read_json(footprint)
        polygon = polygon_from_dict(record["polygon"])
        loaded[image] = load_pair_image(image, info["file"], info["sci"], polygon, mask, wcs_used(record))
    record = pair_record(
        pair["group_a"], [loaded[m] for m in pair["members_a"]],
        pair["group_b"], [loaded[m] for m in pair["members_b"]],
        stat_params,
    )
    for image in pair["members_a"] + pair["members_b"]:  # pixels read since the check: still the same file?
        check_unchanged(image, member_keys.states(image)["image"])
    return record
