"""The whole workflow in one process, with the same stage code as the rules.

For parity tests and quick looks at small data sets: per image (footprint,
mask, whole-image sky), overlap graph, pair statistics, solve. Masks are
written under ``workdir`` because the pair stage reads them from disk as it
does in the workflow.
"""

from pathlib import Path

from .config import stat_kwargs
from .footprint import polygon_from_dict
from .imagesky import whole_image_sky
from .inputs import discover_images
from .maskfile import write_mask
from .overlapgraph import build_graph
from .pairstats import load_pair_image, pair_record
from .skylist import read_skylist
from .skytable import pair_table, solve_tables, user_sky_table
from .stages import footprint_record, image_mask


def run_in_process(config, workdir):
    """(sky table, pair table) for a full config (every key present, as after validation)."""
    workdir = Path(workdir)
    specs = discover_images(config)
    if config["skymethod"] == "user":
        footprints = [footprint_record(s, config["stepsize"], config["groups"]) for s in specs.values()]
        skies = read_skylist(config["skylist"], sorted({s.path for s in specs.values()}))
        return user_sky_table(footprints, skies), pair_table([], [])
    footprints, skies, images = [], [], {}
    for spec in specs.values():
        record = footprint_record(spec, config["stepsize"], config["groups"])
        mask_path = workdir / "masks" / f"{spec.image_id}.fits"
        write_mask(mask_path, image_mask(spec, config["dqbits"]), spec.image_id, {})
        skies.append(whole_image_sky(spec, mask_path, config))
        polygon = polygon_from_dict(record["polygon"])
        images[spec.image_id] = load_pair_image(spec.image_id, spec.path, spec.sci, polygon, mask_path)
        footprints.append(record)
    pairs = []
    if "match" in config["skymethod"]:
        pairs, _ = build_graph(footprints, [images[r["image"]].polygon for r in footprints], 1)
    stat = stat_kwargs(config)
    pair_records = [
        pair_record(p["group_a"], [images[m] for m in p["members_a"]],
                    p["group_b"], [images[m] for m in p["members_b"]], stat)
        | {"pair": p["pair"]}
        for p in pairs
    ]
    return solve_tables(footprints, skies, pair_records, config["skymethod"], config["match_down"], config["subtract"])
