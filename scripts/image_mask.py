"""Snakemake entry: one image's good-pixel mask (DQ bits AND finite SCI)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.inputs import ImageSpec  # noqa: E402
from skymatchflow.maskfile import write_mask  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.stagefiles import provenance  # noqa: E402
from skymatchflow.stages import image_mask  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    spec = ImageSpec.from_params(cfg)
    mask = image_mask(spec, cfg["dqbits"])
    write_mask(smk.output[0], mask, spec.image_id, provenance(cfg, {"image": spec.path, "dq": spec.dq_file}))


run_rule(main, snakemake)  # noqa: F821
