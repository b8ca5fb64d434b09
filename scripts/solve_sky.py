"""Snakemake entry: the sky table (and the pair before/after table)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.config import match_options  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.skylist import read_skylist  # noqa: E402
from skymatchflow.skytable import pair_table, solve_tables, user_sky_table  # noqa: E402
from skymatchflow.stagefiles import atomic_path, read_json, software_versions  # noqa: E402


def write_table(table, path, meta):
    table.meta.update(meta)
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv")


def main(smk):
    cfg = smk.params.cfg
    footprints = [read_json(path) for path in cfg["footprints"]]
    if cfg["skymethod"] == "user":
        skylist = smk.input.skylist if isinstance(smk.input.skylist, str) else smk.input.skylist[0]
        skies = read_skylist(skylist, [record["file"] for record in footprints])
        sky, pairs = user_sky_table(footprints, skies), pair_table([], [])
    else:
        image_skies = [read_json(path) for path in cfg["skies"]]
        batches = getattr(smk.input, "pairs", [])
        pair_records = [read_json(p) for batch in batches for p in sorted(Path(batch).glob("*.json"))]
        sky, pairs = solve_tables(
            footprints, image_skies, pair_records, cfg["skymethod"], cfg["match_down"], cfg["subtract"],
            match_options(cfg["config"]),
        )
    meta = {
        "config": cfg["config"],
        "software": software_versions(),
        "inputs": {
            record["image"]: record["provenance"]["inputs"]["image"]["sha256"] for record in footprints
        },
    }
    write_table(sky, smk.output.sky, meta)
    write_table(pairs, smk.output.pairs, meta)


run_rule(main, snakemake)  # noqa: F821
