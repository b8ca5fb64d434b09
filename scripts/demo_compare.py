"""Snakemake entry: print and save the demo's recovered against injected sky."""

from astropy.table import Table

from skymatchflow.demo.compare import compare_with_truth, format_comparison
from skymatchflow.io.stagefiles import atomic_path, software_versions
from skymatchflow.jobs.rulerunner import run_rule


def main(smk):
    table = compare_with_truth(
        Table.read(smk.input.sky, format="ascii.ecsv"), Table.read(smk.input.truth, format="ascii.ecsv")
    )
    table.meta["software"] = software_versions()
    lines = format_comparison(table)
    print("\n".join(lines), flush=True)
    with open(smk.log[0], "a") as log:  # after the log's version line
        log.write("\n".join(lines) + "\n")
    with atomic_path(smk.output[0]) as tmp:
        table.write(tmp, format="ascii.ecsv")


run_rule(main, snakemake)  # noqa: F821
