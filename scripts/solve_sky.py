"""Snakemake entry: the sky table (and the pair before/after table)."""

import logging

from skymatchflow.io.skylist import read_skylist
from skymatchflow.io.stagefiles import software_versions, write_ecsv
from skymatchflow.jobs.config import match_options
from skymatchflow.jobs.identity import params_identity
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.products.checked import read_checked_images, read_checked_pairs
from skymatchflow.products.graph import read_graph
from skymatchflow.products.images import read_skipped
from skymatchflow.products.store import prune_store
from skymatchflow.stages.solve_sky import pair_table, solve_tables, user_sky_table, with_skipped_images


def main(smk):
    cfg = smk.params.cfg
    records, member_keys = read_checked_images(cfg["made_from"], smk.input.image_batches, cfg["products"])
    footprints = records["footprint"]
    footprint_ids = {record["image"] for record in footprints}
    if cfg["skymethod"] == "user":
        skies = read_skylist(smk.input.skylist, [record["file"] for record in footprints])
        sky, pairs = user_sky_table(footprints, skies), pair_table([], [])
    else:
        pair_records, groups = [], None
        if "match" in cfg["skymethod"]:
            graph = read_graph(smk.input.graph_pairs, smk.input.graph_groups, smk.input.plans)
            pair_records = read_checked_pairs(
                graph, smk.input.plans, smk.input.pair_batches, cfg["pair_stat"], member_keys
            )
            groups = graph["groups"]
        sky, pairs = solve_tables(
            footprints, records["sky"], pair_records, cfg["skymethod"], cfg["match_down"], cfg["subtract"],
            match_options(cfg["config"]), groups,
        )
    if cfg["config"].get("on_bad_input") == "skip":
        sky = with_skipped_images(sky, read_skipped(smk.input.image_batches), cfg["made_from"]["images"])
    meta = {
        # one key over the config that matters, the image specs and the code (rules/identity.smk); inputs below
        "made_from_key": params_identity(cfg),
        "config": cfg["config"],
        "software": software_versions(),
        "inputs": {image: member_keys.states(image)["image"]["sha256"] for image in cfg["made_from"]["images"]
                   if image in footprint_ids},  # a skipped bad image has no recorded input
    }
    write_ecsv(sky, smk.output.sky, meta)
    write_ecsv(pairs, smk.output.pairs, meta)
    removed = prune_store()
    if removed:
        logging.info("product store: %d files no output links to removed", removed)


run_rule(main, snakemake)  # noqa: F821
