"""Snakemake entry: the statistics files of one batch of overlapping group pairs."""

import logging

from skymatchflow.jobs.paramfiles import resolve_params
from skymatchflow.jobs.plans import read_plan
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.pair_batch import pair_batch_spec, run_batch


def main(smk):
    plan = read_plan(smk.input.plan)
    # the members' image batches are not inputs (see workflow/rules/common.smk, pair_batch_params)
    spec = pair_batch_spec(plan["pairs"], plan["made_from"], resolve_params(smk.params.cfg)["image_batches"])
    computed, kept = run_batch({"stat": plan["stat"], "made_from": plan["made_from"], "batch": spec}, smk.output[0])
    logging.info("batch %s: %d pairs computed, %d unchanged pairs kept", smk.wildcards.batch, computed, kept)


run_rule(main, snakemake)  # noqa: F821
