"""Snakemake entry (checkpoint): the overlap graph of all footprints."""

import logging

from skymatchflow.geometry.footprint import polygon_from_dict
from skymatchflow.io.stagefiles import atomic_path, software_versions
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.overlap_graph import build_graph, groups_table, pairs_table
from skymatchflow.stages.solve_inputs import read_checked_images


def write_table(table, path, record):
    table.meta["provenance"] = record
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv")


def main(smk):
    cfg = smk.params.cfg
    records = read_checked_images(cfg["made_from"], cfg["image_batch_dirs"], ["footprint"])[0]["footprint"]
    polygons = [polygon_from_dict(record["polygon"]) for record in records]
    pairs, members = build_graph(records, polygons, cfg["pair_batches"])
    logging.info("%d images in %d sky groups; %d overlapping group pairs", len(records), len(members), len(pairs))
    record = {
        "params": {"pair_batches": cfg["pair_batches"]},
        "footprints": {r["image"]: r["key"] for r in records},
        "software": software_versions(),
    }
    write_table(groups_table(records, members), smk.output.groups, record)
    write_table(pairs_table(pairs), smk.output.pairs, record)


run_rule(main, snakemake)  # noqa: F821
