"""Snakemake entry: the statistics files of one batch of overlapping group pairs."""

import logging

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.pair_batch import batch_spec, run_batch


def main(smk):
    cfg = smk.params.cfg
    spec = batch_spec(cfg["pairs"], cfg["made_from"], smk.input.image_batches)
    computed, kept = run_batch({"stat": cfg["stat"], "made_from": cfg["made_from"], "batch": spec}, smk.output[0])
    logging.info("batch %s: %d pairs computed, %d unchanged pairs kept", smk.wildcards.batch, computed, kept)


run_rule(main, snakemake)  # noqa: F821
