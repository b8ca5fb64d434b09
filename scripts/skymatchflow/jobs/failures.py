"""The end of a failed run: one "failed: file: reason" line per error, from the failed jobs' logs.

Snakemake ends a failed run with its own banners and, for each failed job,
a block pointing at the job's log; the reasons (one line each, written by
jobs/rulerunner) are scrolled far up by then. This puts them last.
"""

import re
from pathlib import Path

FAILED_LOG = re.compile(r"^\s*log: (\S+) \(check log file", re.MULTILINE)
ERROR_LINE = re.compile(r"^\S+ \S+ ERROR (.*)$", re.MULTILINE)
MAX_LINES = 20


def failed_job_logs(snakemake_log_text):
    """The logs of the jobs a Snakemake log reports as failed, in order, each once."""
    return list(dict.fromkeys(FAILED_LOG.findall(snakemake_log_text)))


def log_paths(snakemake_log):
    """The path(s) an ``onerror`` hook is given: one path, or (Snakemake 9) a list of paths or file handlers."""
    items = snakemake_log if isinstance(snakemake_log, (list, tuple)) else [snakemake_log]
    return [getattr(item, "baseFilename", item) for item in items if item is not None]


def failure_lines(snakemake_log_path, max_lines=MAX_LINES):
    """The summary lines: 'failed: <reason>  [<job log>]' per error line of each failed job's log."""
    try:
        text = "".join(Path(path).read_text(errors="replace") for path in log_paths(snakemake_log_path))
    except (OSError, TypeError):
        return []
    lines = []
    for job_log in failed_job_logs(text):
        try:
            errors = ERROR_LINE.findall(Path(job_log).read_text(errors="replace"))
        except OSError:
            errors = []
        lines += [f"failed: {error}  [{job_log}]" for error in errors] or [f"failed: see {job_log}"]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... and {len(lines) - max_lines} more in the logs above"]
    return lines


def print_failure_summary(snakemake_log_path, stream=None):
    """Print the summary lines (nothing when no failed job left a log) to ``stream`` (stderr)."""
    import sys

    lines = failure_lines(snakemake_log_path)
    if lines:
        print("\n".join(["", "Summary of failures (each job's log has the details):", *lines]),
              file=stream or sys.stderr)
