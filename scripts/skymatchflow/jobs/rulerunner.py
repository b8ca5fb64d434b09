"""Glue between a Snakemake ``script:`` job and a ``main(snakemake)`` function.

Logs go to the rule's log file and to stderr, which is where Snakemake tells
the user to look. A bad input (InputError) ends the job with exactly one line
naming the file and the reason, and so does a full disk, a read-only file
system or a permission error; any other error is a bug: its one-line
summary goes to both, and its traceback to the log as well (the log is the
record Snakemake keeps), so no failure leaves an empty log.
"""

import logging
import sys

from skymatchflow.io.errors import InputError, environment_fault

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def run_rule(main, snakemake):
    """Run ``main(snakemake)``; exit 1 with the error in the log and on stderr."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(snakemake.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) must not add a traceback
    try:
        main(snakemake)
    except InputError as err:
        logging.error("%s", err)
        sys.exit(1)
    except OSError as err:
        line = environment_fault(err)
        if line is None:
            _bug(err)
        logging.error("%s", line)
        sys.exit(1)
    except Exception as err:  # a bug, not a bad input: keep the whole traceback
        _bug(err)
    finally:
        logging.shutdown()


def _bug(err):
    logging.exception("unexpected error (a bug; please report it with this log): %s: %s", type(err).__name__, err)
    sys.exit(1)
