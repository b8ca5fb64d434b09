"""Why each failed SLURM job of a run failed, one line each, for the console.

The SLURM executor plugin prints "Detailed failure reason unavailable" unless
sacct works, and Snakemake's ``show-failed-logs`` stops at the first empty
rule log, which is what a job killed by SLURM leaves (memory, time limit,
scancel). SLURM writes the cause into the job's own log,
``.snakemake/slurm_logs/rule_<rule>/<batch>/<job id>.log``; the rule and the
batch are in that path. A job that failed inside its rule names its rule log
there, whose first error line is the reason.
"""

import re
from pathlib import Path

MB = 2**20
MEMORY = re.compile(r"exceeded memory limit \((\d+) > (\d+)\)")
OOM = re.compile(r"oom[-_ ]kill|out of memory", re.I)
TIME_LIMIT = re.compile(r"CANCELLED AT \S+ DUE TO TIME LIMIT")
PREEMPTED = re.compile(r"CANCELLED AT \S+ DUE TO PREEMPTION")
NODE_FAIL = re.compile(r"DUE TO NODE FAIL")
CANCELLED = re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT")
RULE_LOG = re.compile(r"^\s+log: (\S+?),? ", re.M)
JOB_FAILED = re.compile(r"Error in rule |RuleException|Exiting because a job execution failed")


def _rule_log_error(slurm_log_text, workdir):
    """The first error line of the rule log that the job's Snakemake names, or ''."""
    for match in RULE_LOG.finditer(slurm_log_text):
        path = Path(workdir) / match.group(1)
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if "ERROR" in line or "Error" in line:
                return line.strip()
    return ""


def cause(text, rule, workdir="."):
    """Why the job whose SLURM log is ``text`` failed, or None if it did not."""
    memory = MEMORY.search(text)
    if memory:
        used, limit = (int(value) / MB for value in memory.groups())
        return (f"killed by SLURM for exceeding its memory request ({used:.0f} MB > {limit:.0f} MB); "
                f"raise it with --set-resources {rule}:mem_mb=N")
    if OOM.search(text):
        return (f"killed by the out-of-memory handler (over its memory request); "
                f"raise it with --set-resources {rule}:mem_mb=N")
    if TIME_LIMIT.search(text):
        return f"killed by SLURM at its time limit; raise it with --set-resources {rule}:runtime=MINUTES"
    if PREEMPTED.search(text):
        return "preempted by SLURM; re-run"
    if NODE_FAIL.search(text):
        return "lost with its node; re-run"
    if CANCELLED.search(text):
        return "cancelled (scancel, or Snakemake stopping its jobs after another failure); re-run"
    if JOB_FAILED.search(text):
        return _rule_log_error(text, workdir) or "failed inside the job (no error line in its rule log)"
    return None


def failure_lines(log_root, since, workdir="."):
    """One line per SLURM job log under ``log_root`` written since ``since`` (epoch s) whose job failed."""
    lines = []
    root = Path(log_root)
    if not root.is_dir():
        return lines
    for log in sorted(root.glob("rule_*/**/*.log")):
        try:
            if log.stat().st_mtime < since:
                continue
            text = log.read_text(errors="replace")
        except OSError:
            continue
        parts = log.relative_to(root).parts
        rule = parts[0].removeprefix("rule_")
        batch = ", batch " + "/".join(parts[1:-1]) if len(parts) > 2 else ""
        reason = cause(text, rule, workdir)
        if reason:
            lines.append(f"SLURM job {log.stem} (rule {rule}{batch}) failed: {reason}  [{log}]")
    return lines
