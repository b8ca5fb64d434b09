"""What a SLURM site must offer the executor plugin, checked once before any job.

The plugin's default status command is sacct whenever the sacct binary is
installed; on a site without accounting storage sacct answers no job, and
Snakemake then waits forever with nothing at the console. One sacct call at
start tells the two apart.
"""

import subprocess

ADVICE = ("add --slurm-status-command squeue (and keep finished jobs visible to squeue for "
          "a few minutes: MinJobAge in slurm.conf, default 300 s)")


def sacct_problem(run=subprocess.run):
    """Why sacct cannot report this site's jobs, or None if it can."""
    try:
        result = run(["sacct", "--noheader", "--allocations", "--starttime", "now", "--format", "JobID"],
                     capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "sacct is not installed"
    except subprocess.TimeoutExpired:
        return "sacct did not answer within 30 s"
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        message = said[0] if said else f"exit status {result.returncode}"
        return f"sacct cannot report jobs here ({message})"
    return None


def status_command_problem(status_command, run=subprocess.run):
    """The one line to print before any job when ``status_command`` cannot work, or None."""
    if status_command != "sacct":
        return None
    problem = sacct_problem(run)
    if problem is None:
        return None
    return f"Error: SLURM job states are read with sacct, but {problem}: {ADVICE}"
