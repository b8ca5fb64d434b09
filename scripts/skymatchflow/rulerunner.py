"""Glue between a Snakemake ``script:`` job and a ``main(snakemake)`` function.

Logs go to the rule's log file and to stderr; a bad input (InputError) ends
the job with exactly one line naming the file and the reason.
"""

import logging
import sys

from .errors import InputError

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def run_rule(main, snakemake):
    """Run ``main(snakemake)``; exit 1 with a one-line message on bad input."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(snakemake.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    try:
        main(snakemake)
    except InputError as err:
        logging.error("%s", err)
        sys.exit(1)
