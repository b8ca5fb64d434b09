"""Snakemake entry: the diagnostics figures and the summary table, from the two tables and the map file."""

from skymatchflow.diagnostics.figurestore import FIGURE_STORE
from skymatchflow.diagnostics.stage import make_figures
from skymatchflow.jobs.rulerunner import run_rule


def main(smk):
    outputs = {name: path for name, path in smk.output.items()}
    make_figures(smk.input.sky, smk.input.pairs, smk.input.map, outputs, store=FIGURE_STORE, workers=smk.threads)


run_rule(main, snakemake)  # noqa: F821
