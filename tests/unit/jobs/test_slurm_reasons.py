"""A failed SLURM job's cause, read from its SLURM log (jobs/slurmfailures), and the
start-time check that sacct can see the site's jobs (jobs/slurmsite).

The log lines are those SLURM 22.05 wrote on the CI's one-node SLURM
(.ci/slurm, memory enforced with OverMemoryKill), 2026-12-06.
"""

import os
import subprocess

from skymatchflow.jobs import slurmfailures, slurmsite

MEMORY_KILL = """\
host: vm
Building DAG of jobs...
slurmstepd-vm: error: StepId=5.0 exceeded memory limit (231399424 > 209715200), being killed
slurmstepd-vm: error: Exceeded job memory limit
slurmstepd-vm: error: *** STEP 5.0 ON vm CANCELLED AT 2026-12-06T06:14:52 ***
"""
TIME_LIMIT = "slurmstepd-vm: error: *** JOB 7 ON vm CANCELLED AT 2026-12-06T06:30:00 DUE TO TIME LIMIT ***\n"
CANCELLED = "slurmstepd-vm: error: *** JOB 9 ON vm CANCELLED AT 2026-12-06T06:31:00 ***\n"
RULE_ERROR = """\
Error in rule image_batch:
    message: None
    jobid: 0
    log: logs/image_batch/i000.log (check log file(s) for error details)
Exiting because a job execution failed. Look above for error messages
"""
SUCCESS = "Building DAG of jobs...\nFinished jobid: 0 (Rule: image_batch)\n1 of 1 steps (100%) done\n"


def write_log(root, rule, batch, jobid, text):
    path = root / f"rule_{rule}" / batch / f"{jobid}.log" if batch else root / f"rule_{rule}" / f"{jobid}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_each_kind_of_kill_is_one_line_naming_job_rule_batch_and_cause(tmp_path):
    root = tmp_path / "slurm_logs"
    write_log(root, "image_batch", "i000", 5, MEMORY_KILL)
    write_log(root, "pair_batch", "b001", 7, TIME_LIMIT)
    write_log(root, "diagnostics", "", 9, CANCELLED)
    write_log(root, "image_batch", "i001", 6, SUCCESS)  # kept with --slurm-keep-successful-logs
    lines = slurmfailures.failure_lines(root, since=0)
    assert len(lines) == 3, lines
    cancelled, memory, time_limit = lines  # sorted by path
    assert memory.startswith("SLURM job 5 (rule image_batch, batch i000) failed: ")
    assert "exceeding its memory request (221 MB > 200 MB)" in memory
    assert "--set-resources image_batch:mem_mb=" in memory
    assert time_limit.startswith("SLURM job 7 (rule pair_batch, batch b001) failed: ")
    assert "time limit" in time_limit and "pair_batch:runtime=" in time_limit
    assert cancelled.startswith("SLURM job 9 (rule diagnostics) failed: cancelled")


def test_a_rule_error_is_the_first_error_line_of_the_rule_log(tmp_path):
    root = tmp_path / "slurm_logs"
    write_log(root, "image_batch", "i000", 11, RULE_ERROR)
    rule_log = tmp_path / "logs" / "image_batch" / "i000.log"
    rule_log.parent.mkdir(parents=True)
    rule_log.write_text("INFO start\nERROR /data/a.fits: DQ shape (10, 10) differs\nTraceback\n")
    (line,) = slurmfailures.failure_lines(root, since=0, workdir=tmp_path)
    assert line.startswith("SLURM job 11 (rule image_batch, batch i000) failed: ERROR /data/a.fits: DQ shape")


def test_logs_older_than_the_run_are_not_reported(tmp_path):
    root = tmp_path / "slurm_logs"
    old = write_log(root, "image_batch", "i000", 3, MEMORY_KILL)
    os.utime(old, (1000, 1000))
    assert slurmfailures.failure_lines(root, since=2000) == []
    assert slurmfailures.failure_lines(tmp_path / "absent", since=0) == []


def fake_sacct(returncode, stdout="", stderr=""):
    def run(command, **kwargs):
        assert command[0] == "sacct"
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)

    return run


def test_sacct_without_accounting_storage_stops_with_the_option_to_add():
    line = slurmsite.status_command_problem("sacct", fake_sacct(1, stdout="Slurm accounting storage is disabled\n"))
    assert line.startswith("Error: ") and "Slurm accounting storage is disabled" in line
    assert "--slurm-status-command squeue" in line
    assert slurmsite.status_command_problem("sacct", fake_sacct(0)) is None
    # squeue needs no accounting storage: not checked
    assert slurmsite.status_command_problem("squeue", fake_sacct(1)) is None


def test_a_missing_sacct_is_named():
    def missing(command, **kwargs):
        raise FileNotFoundError(command[0])

    assert "sacct is not installed" in slurmsite.status_command_problem("sacct", missing)
