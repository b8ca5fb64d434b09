"""Snakemake entry: footprints, masks and whole-image skies of one batch of images."""

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.imagebatch import describe_counts, run_image_batch  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402


def main(smk):
    counts = run_image_batch(smk.params.cfg, smk.output[0])
    logging.info("batch %s: %s", smk.wildcards.ibatch, describe_counts(counts))


run_rule(main, snakemake)  # noqa: F821
