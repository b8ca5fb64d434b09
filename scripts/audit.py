"""Snakemake entry (target ``audit``): re-verify every result and product; one line per problem, then a summary."""

import sys
from pathlib import Path

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.audit import audit_results


def main(smk):
    audit = audit_results(smk.params.cfg)
    lines = [*audit.problems, audit.summary()]
    Path(smk.log[0]).write_text("\n".join(lines) + "\n")
    print("\n".join(lines), file=sys.stderr, flush=True)
    if audit.problems:
        sys.exit(1)


run_rule(main, snakemake)  # noqa: F821
