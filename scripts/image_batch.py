"""Snakemake entry: footprints, masks, whole-image skies and previews of one batch of images."""

import logging

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.image_batch import describe_counts, run_image_batch


def main(smk):
    counts = run_image_batch(smk.params.cfg, smk.output[0])
    logging.info("batch %s: %s", smk.wildcards.batch, describe_counts(counts))


run_rule(main, snakemake)  # noqa: F821
