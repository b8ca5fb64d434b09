"""One batch of pair statistics: one JSON file per group pair, kept when unchanged.

Snakemake re-runs a batch when its spec or any member's files change; the
batch directory is an ``update`` output, so the job finds its previous pair
files and recomputes only the pairs whose inputs (a key over the members'
footprints, masks and the statistic's parameters) differ. Pair files of
pairs no longer in the batch are removed.
"""

import hashlib
import json
import logging
from pathlib import Path

from .maskfile import read_mask_provenance
from .progress import tracked
from .stagefiles import read_json, sha256_file, software_versions, write_json


def member_fingerprint(info):
    """What one member's pixels in any overlap depend on: footprint file and mask provenance."""
    mask = read_mask_provenance(info["mask"])
    return {
        "footprint": sha256_file(info["footprint"]),
        "mask": {"params": mask["params"], "inputs": mask["inputs"]},
    }


def pair_key(pair, fingerprints, stat_params):
    """SHA-256 over everything a pair's statistics depend on."""
    members = sorted(pair["members_a"] + pair["members_b"])
    blob = json.dumps(
        {"pair": pair, "stat": stat_params, "members": {m: fingerprints[m] for m in members}},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def run_batch(spec, outdir, stat_params):
    """Write (or keep) every pair file of ``spec`` in ``outdir``; return (computed, kept).

    A pair file's provenance names the statistic's parameters and, per
    member, its footprint checksum and its mask's provenance (which holds the
    image and DQ checksums), so no image is hashed again here.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    fingerprints = {image: member_fingerprint(info) for image, info in spec["images"].items()}
    images = {}
    computed = kept = 0
    wanted = set()
    for pair in tracked(spec["pairs"], "pairs"):  # a log line every 5 %, with pairs per second
        path = outdir / f"{pair['pair']}.json"
        wanted.add(path.name)
        key = pair_key(pair, fingerprints, stat_params)
        if path.exists():
            try:
                if read_json(path).get("key") == key:
                    kept += 1
                    continue
            except (OSError, ValueError):
                pass
        from .footprint import polygon_from_dict  # heavy (WCS, spherical geometry): only when
        from .pairstats import load_pair_image, pair_record  # a pair is computed

        for image in pair["members_a"] + pair["members_b"]:
            if image not in images:
                info = spec["images"][image]
                polygon = polygon_from_dict(read_json(info["footprint"])["polygon"])
                images[image] = load_pair_image(image, info["file"], info["sci"], polygon, info["mask"])
        record = pair_record(
            pair["group_a"], [images[m] for m in pair["members_a"]],
            pair["group_b"], [images[m] for m in pair["members_b"]],
            stat_params,
        )
        members = sorted(pair["members_a"] + pair["members_b"])
        record.update(
            pair=pair["pair"],
            key=key,
            provenance={
                "params": stat_params,
                "members": {m: fingerprints[m] for m in members},
                "software": software_versions(),
            },
        )
        if not record["valid"]:
            logging.warning("pair %s gives no equation: %s", pair["pair"], record["reason"])
        write_json(path, record)
        computed += 1
    for stale in outdir.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    return computed, kept
