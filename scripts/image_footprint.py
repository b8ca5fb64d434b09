"""Snakemake entry: one image's sky footprint (reads only the header)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.inputs import ImageSpec  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.stagefiles import provenance, write_json  # noqa: E402
from skymatchflow.stages import footprint_record  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    spec = ImageSpec.from_params(cfg)
    record = footprint_record(spec, cfg["stepsize"], cfg["groups"])
    record["provenance"] = provenance(cfg, {"image": spec.path})
    write_json(smk.output[0], record)


run_rule(main, snakemake)  # noqa: F821
