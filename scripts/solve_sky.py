"""Snakemake entry: the sky table (and the pair before/after table)."""

from skymatchflow.io.skylist import read_skylist
from skymatchflow.io.stagefiles import atomic_path, software_versions
from skymatchflow.jobs.config import match_options
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.solve_inputs import read_checked_images, read_checked_pairs
from skymatchflow.stages.solve_sky import pair_table, solve_tables, user_sky_table


def write_table(table, path, meta):
    table.meta.update(meta)
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv")


def main(smk):
    cfg = smk.params.cfg
    records, member_keys = read_checked_images(cfg["made_from"], cfg["image_batch_dirs"], cfg["products"])
    footprints = records["footprint"]
    if cfg["skymethod"] == "user":
        skylist = smk.input.skylist if isinstance(smk.input.skylist, str) else smk.input.skylist[0]
        skies = read_skylist(skylist, [record["file"] for record in footprints])
        sky, pairs = user_sky_table(footprints, skies), pair_table([], [])
    else:
        pair_records = []
        if "match" in cfg["skymethod"]:
            stat = cfg["pair_stat"]
            pair_list = smk.input.pair_list if isinstance(smk.input.pair_list, str) else smk.input.pair_list[0]
            pair_records = read_checked_pairs(pair_list, smk.input.pairs, stat, member_keys)
        sky, pairs = solve_tables(
            footprints, records["sky"], pair_records, cfg["skymethod"], cfg["match_down"], cfg["subtract"],
            match_options(cfg["config"]),
        )
    meta = {
        "config": cfg["config"],
        "software": software_versions(),
        "inputs": {image: member_keys.states(image)["image"]["sha256"] for image in cfg["image_batch_dirs"]},
    }
    write_table(sky, smk.output.sky, meta)
    write_table(pairs, smk.output.pairs, meta)


run_rule(main, snakemake)  # noqa: F821
