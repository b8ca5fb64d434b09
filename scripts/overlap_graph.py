"""Snakemake entry (checkpoint): the overlap graph of all footprints (pairs.ecsv, groups.ecsv) and the pair batch plans.

The plans are written here, not by a job of their own: one process start
fewer on the critical path (issue 29).
"""

import logging

from skymatchflow.geometry.footprint import polygon_from_dict
from skymatchflow.io.stagefiles import software_versions, write_ecsv
from skymatchflow.jobs.batches import batch_pairs
from skymatchflow.jobs.planfiles import write_batch_plans
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.products.checked import read_checked_images
from skymatchflow.products.graph import read_pairs, remember_graph, rows_digest
from skymatchflow.stages.overlap_graph import groups_table, pairs_table, stored_graph


def main(smk):
    cfg = smk.params.cfg
    records = read_checked_images(cfg["made_from"], smk.input.image_batches, ["footprint"])[0]["footprint"]
    polygons = [polygon_from_dict(record["polygon"]) for record in records]
    pairs, members, reused, pairs_reused = stored_graph(records, polygons)
    if reused:
        how = " (the footprints are unchanged: graph read from the product store)"
    elif pairs_reused:
        how = f" ({pairs_reused} image pairs of unchanged footprints taken from the stored graph)"
    else:
        how = ""
    logging.info("%d images in %d sky groups; %d overlapping group pairs%s", len(records), len(members), len(pairs), how)
    footprints = {r["image"]: r["key"] for r in records}
    record = {"footprints": footprints, "software": software_versions()}
    write_ecsv(groups_table(records, members), smk.output.groups, {"provenance": record})
    # the pair list names the footprints by a digest of groups.ecsv's mapping: a header of one line per
    # image is YAML that the pair batch plans and the solve would parse again at every re-run
    digest = {"footprints_sha256": rows_digest(footprints.items()), "software": record["software"]}
    write_ecsv(pairs_table(pairs, records), smk.output.pairs, {"provenance": digest})
    # the plans from the pair list as written, as the pair batches and the solve read it
    written = read_pairs(smk.output.pairs)
    n = write_batch_plans(written, cfg["made_from"], cfg["stat"], cfg["pair_batch_of"], smk.output.plans)
    logging.info("%d group pairs in %d pair batches", len(written), n)
    # what the solve would parse from these files, filed under their bytes (products/graph.read_graph); the
    # groups as groups.ecsv lists them: in element order, each group's members in input order
    batches = batch_pairs(written, cfg["pair_batch_of"])  # as write_batch_plans put them in the plans
    in_batch = {pair["pair"]: batch for batch, members in batches.items() for pair in members}
    remember_graph(smk.output.pairs, smk.output.groups, smk.output.plans,
                   {"pairs": written, "groups": members, "batch_of_pair": in_batch})


run_rule(main, snakemake)  # noqa: F821
