"""Snakemake entry: print and save the demo's recovered against injected sky."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from astropy.table import Table  # noqa: E402

from skymatchflow.demoreport import compare_with_truth, format_comparison  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.stagefiles import atomic_path  # noqa: E402


def main(smk):
    table = compare_with_truth(
        Table.read(smk.input.sky, format="ascii.ecsv"), Table.read(smk.input.truth, format="ascii.ecsv")
    )
    lines = format_comparison(table)
    print("\n".join(lines), flush=True)
    Path(smk.log[0]).write_text("\n".join(lines) + "\n")
    with atomic_path(smk.output[0]) as tmp:
        table.write(tmp, format="ascii.ecsv")


run_rule(main, snakemake)  # noqa: F821
