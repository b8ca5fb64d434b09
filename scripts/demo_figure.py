"""Snakemake entry: the demo's recovered against injected sky, as a figure."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from astropy.table import Table  # noqa: E402

from skymatchflow.diagnostics.truth import truth_figure  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402


def main(smk):
    truth_figure(Table.read(smk.input[0], format="ascii.ecsv"), smk.output[0])


run_rule(main, snakemake)  # noqa: F821
