"""Snakemake entry: the matched copy of one input file."""

from astropy.table import Table

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.apply_sky import write_matched_copy


def main(smk):
    cfg = smk.params.cfg
    table = Table.read(smk.input.sky, format="ascii.ecsv")
    rows = [row for row in table if row["file"] == cfg["file"]]
    write_matched_copy(smk.input.image, smk.output[0], rows, cfg["skymethod"], cfg["subtract"])


run_rule(main, snakemake)  # noqa: F821
