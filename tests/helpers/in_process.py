"""The whole workflow in one process, with the same stage code as the rules.

For parity tests and quick looks at small data sets: per image (footprint,
mask, whole-image sky, as one image batch), overlap graph, pair statistics,
solve. The per-image products are written under ``workdir`` because the pair
stage reads masks from disk as it does in the workflow.
"""

from pathlib import Path

from skymatchflow.geometry.footprint import polygon_from_dict
from skymatchflow.io.inputs import discover_images
from skymatchflow.io.skylist import read_skylist
from skymatchflow.io.stagefiles import read_json
from skymatchflow.jobs.config import match_options
from skymatchflow.products.images import product_path
from skymatchflow.products.ruleparams import image_batch_params, pair_stat
from skymatchflow.stages.image_batch import run_image_batch
from skymatchflow.stages.overlap_graph import build_graph
from skymatchflow.stages.solve_sky import pair_table, solve_tables, user_sky_table
from skymatchflow.stats.pairimage import load_pair_image
from skymatchflow.stats.pairstats import pair_record


def run_in_process(config, workdir):
    """(sky table, pair table) for a full config (every key present, as after validation)."""
    workdir = Path(workdir) / "images"
    specs = discover_images(config)
    run_image_batch(image_batch_params(specs, config), workdir, store=workdir.parent / "store")
    footprints = [read_json(product_path(workdir, image, "footprint")) for image in specs]
    if config["skymethod"] == "user":
        skies = read_skylist(config["skylist"], sorted({s.file for s in specs.values()}))
        return user_sky_table(footprints, skies), pair_table([], [])
    skies = [read_json(product_path(workdir, image, "sky")) for image in specs]
    images = {
        image: load_pair_image(
            image, spec.file, spec.sci, polygon_from_dict(record["polygon"]), product_path(workdir, image, "mask"),
            record["wcs"],
        )
        for (image, spec), record in zip(specs.items(), footprints)
    }
    pairs = []
    if "match" in config["skymethod"]:
        pairs, _ = build_graph(footprints, [images[r["image"]].polygon for r in footprints])
    stat = pair_stat(config)
    pair_records = [
        pair_record(p["group_a"], [images[m] for m in p["members_a"]],
                    p["group_b"], [images[m] for m in p["members_b"]], stat)
        | {"pair": p["pair"]}
        for p in pairs
    ]
    return solve_tables(
        footprints, skies, pair_records, config["skymethod"], config["match_down"], config["subtract"],
        match_options(config),
    )
