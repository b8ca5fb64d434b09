"""Snakemake entry: the statistics files of one batch of overlapping group pairs."""

import logging

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.pair_batch import run_batch


def main(smk):
    computed, kept = run_batch(smk.params.cfg, smk.output[0])
    logging.info("batch %s: %d pairs computed, %d unchanged pairs kept", smk.wildcards.batch, computed, kept)


run_rule(main, snakemake)  # noqa: F821
