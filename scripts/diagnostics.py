"""Snakemake entry: the diagnostics figures and the summary table, from stage files only."""

from skymatchflow.diagnostics.stage import make_diagnostics
from skymatchflow.jobs.rulerunner import run_rule


def main(smk):
    cfg = smk.params.cfg
    make_diagnostics(smk.input.sky, smk.input.pairs, cfg["footprints"], cfg["previews"], dict(smk.output.items()))


run_rule(main, snakemake)  # noqa: F821
