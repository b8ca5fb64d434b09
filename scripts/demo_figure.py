"""Snakemake entry: the demo's recovered against injected sky, as a figure."""

from astropy.table import Table

from skymatchflow.diagnostics.truth import truth_figure
from skymatchflow.jobs.rulerunner import run_rule


def main(smk):
    truth_figure(Table.read(smk.input[0], format="ascii.ecsv"), smk.output[0])


run_rule(main, snakemake)  # noqa: F821
