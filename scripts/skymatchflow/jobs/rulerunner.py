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
from pathlib import Path

import skymatchflow
from skymatchflow import __version__
from skymatchflow.errors import InputError, environment_fault
from skymatchflow.jobs.paramfiles import resolve_params

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def expand_params_file(snakemake):
    """Replace, in place, a digest in ``params.cfg`` by the dict its file holds (jobs/paramfiles).

    In place: Snakemake's ``params`` is a property that builds a new list on each access.
    """
    params = getattr(snakemake, "params", None)
    if params is None or "cfg" not in params.keys():
        return
    cfg = params.cfg
    resolved = resolve_params(cfg)
    if resolved is not cfg:
        cfg.clear()
        cfg.update(resolved)


def console_line(record):
    """False for a record logged with ``extra={"log_only": True}`` (per-image lines: thousands at survey scale)."""
    return not getattr(record, "log_only", False)


def run_rule(main, snakemake):
    """Run ``main(snakemake)``; exit 1 with the error in the log and on stderr.

    Records marked ``log_only`` reach the log file, not stderr (the console).
    """
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(console_line)
    handlers = [console]
    if snakemake.log:
        handlers.append(_log_file(snakemake.log[0], getattr(snakemake, "rule", None)))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) must not add a traceback
    try:
        shadowed = shadowing_copy(getattr(snakemake, "scriptdir", None))
        if shadowed:
            logging.error("%s", shadowed)
            sys.exit(1)
        expand_params_file(snakemake)
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


def shadowing_copy(scriptdir):
    """One line if this package is not the one beside the job's entry script, else None.

    Snakemake appends the entry script's directory (the clone's scripts/, or
    the copy of a Git address's commit) at the end of the job's path: another
    copy ahead of it (one installed in the environment) would run its own
    code under this workflow's name and version.
    """
    if not scriptdir or not Path(scriptdir).is_dir():
        return None
    beside = (Path(scriptdir) / "skymatchflow").resolve()
    imported = Path(skymatchflow.__file__).resolve().parent
    if imported == beside:
        return None
    return (
        f"{imported}: skymatchflow {__version__} was imported from there, not from the workflow's "
        f"{beside}; remove that copy from the environment (pip uninstall skymatchflow)"
    )


def _log_file(path, rule):
    """The rule's log file handler, its first line already written: which version (and rule) made this log."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    head = f"skymatchflow {__version__}" + (f", rule {rule}" if rule else "")
    handler.emit(logging.makeLogRecord({"msg": head, "levelno": logging.INFO, "levelname": "INFO"}))
    return handler


def _bug(err):
    logging.exception("unexpected error (a bug; please report it with this log): %s: %s", type(err).__name__, err)
    sys.exit(1)
