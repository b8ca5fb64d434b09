"""Snakemake entry (checkpoint): one plan file per pair batch, from the overlap graph's pairs."""

import logging

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.overlap_graph import read_pairs
from skymatchflow.stages.pair_batch import write_batch_plans


def main(smk):
    cfg = smk.params.cfg
    pairs = read_pairs(smk.input.pairs)
    n = write_batch_plans(pairs, cfg["made_from"], cfg["stat"], cfg["pair_batches"], smk.output[0])
    logging.info("%d group pairs in %d pair batches", len(pairs), n)


run_rule(main, snakemake)  # noqa: F821
