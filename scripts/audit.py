"""Snakemake entry (target ``audit``): re-verify every result and product; one line per problem, then a summary."""

import logging
import sys

from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.audit import audit_results


def main(smk):
    audit = audit_results(smk.params.cfg)
    lines = [*audit.problems, audit.summary()]
    for line in lines:  # the log (after its version line) with times; the console as plain lines
        logging.info("%s", line, extra={"log_only": True})
    print("\n".join(lines), file=sys.stderr, flush=True)
    if audit.problems:
        sys.exit(1)


run_rule(main, snakemake)  # noqa: F821
