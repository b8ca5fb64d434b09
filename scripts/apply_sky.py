"""Snakemake entry: the matched copy of one input file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from astropy.table import Table  # noqa: E402

from skymatchflow.apply import write_matched_copy  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    table = Table.read(smk.input.sky, format="ascii.ecsv")
    rows = [row for row in table if row["file"] == cfg["file"]]
    write_matched_copy(smk.input.image, smk.output[0], rows, cfg["skymethod"], cfg["subtract"])


run_rule(main, snakemake)  # noqa: F821
