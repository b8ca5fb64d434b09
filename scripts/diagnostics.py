"""Snakemake entry: the diagnostics figures and the summary table, from stage files only."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.diagnostics.stage import make_diagnostics  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    make_diagnostics(smk.input.sky, smk.input.pairs, cfg["footprints"], cfg["previews"], dict(smk.output.items()))


run_rule(main, snakemake)  # noqa: F821
