"""Snakemake entry: the statistics files of one batch of overlapping group pairs."""

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.pairbatch import run_batch  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402


def main(smk):
    computed, kept = run_batch(smk.params.cfg, smk.output[0])
    logging.info("batch %s: %d pairs computed, %d unchanged pairs kept", smk.wildcards.batch, computed, kept)


run_rule(main, snakemake)  # noqa: F821
