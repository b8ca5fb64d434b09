"""Snakemake entry: one image's whole-image sky statistic over its good pixels."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.imagesky import whole_image_sky  # noqa: E402
from skymatchflow.inputs import ImageSpec  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.stagefiles import provenance, write_json  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    spec = ImageSpec.from_params(cfg)
    record = whole_image_sky(spec, smk.input.mask, cfg)
    record["provenance"] = provenance(cfg, {"image": spec.path, "mask": smk.input.mask})
    write_json(smk.output[0], record)


run_rule(main, snakemake)  # noqa: F821
