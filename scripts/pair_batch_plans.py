"""Snakemake entry (checkpoint): one plan file per pair batch, from the overlap graph's pairs."""

import logging
from pathlib import Path

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.jobs.runprogress import write_expected
from skymatchflow.stages.overlap_graph import read_pairs
from skymatchflow.stages.pair_batch import write_batch_plans


def main(smk):
    cfg = smk.params.cfg
    pairs = read_pairs(smk.input.pairs)
    n = write_batch_plans(pairs, cfg["made_from"], cfg["stat"], cfg["pair_batches"], smk.output[0])
    logging.info("%d group pairs in %d pair batches", len(pairs), n)
    # the pair batches that now run, for the count across them (jobs/runprogress)
    write_expected("pairs", {path.stem: None for path in Path(smk.output[0]).glob("*.json")})


run_rule(main, snakemake)  # noqa: F821
