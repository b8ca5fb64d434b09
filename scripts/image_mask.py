"""Snakemake entry: one image's good-pixel mask (DQ bits AND finite SCI)."""

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.dqflags import good_pixel_mask, interpret_dqbits  # noqa: E402
from skymatchflow.inputs import ImageSpec  # noqa: E402
from skymatchflow.maskfile import write_mask  # noqa: E402
from skymatchflow.readers import read_sci_dq  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.stagefiles import provenance  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    spec = ImageSpec.from_params(cfg)
    sci, dq = read_sci_dq(spec)
    mask = good_pixel_mask(sci, dq, interpret_dqbits(cfg["dqbits"]))
    if not mask.any():
        logging.warning(
            "%s[%s]: every pixel is masked (dqbits=%r); this image will get no sky and be SKIPPED",
            spec.path, spec.sci, cfg["dqbits"],
        )
    record = provenance(cfg, {"image": spec.path, "dq": spec.dq_file})
    write_mask(smk.output[0], mask, spec.image_id, record)


run_rule(main, snakemake)  # noqa: F821
