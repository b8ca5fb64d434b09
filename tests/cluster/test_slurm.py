"""The workflow on a real one-node SLURM through the shipped profile.

Run by .ci/run after `.ci/slurm start`, with the cluster environment
(envs/requirements-slurm.txt): `.venv-slurm/bin/python -m pytest tests/cluster`.
Not part of the default test run (pytest.ini's testpaths), because it needs
a SLURM controller and the executor plugin. Each test compares what a cluster
user sees with a local run of the same config.
"""

import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from helpers.images import write_image
from helpers.paths import REPO

SNAKEFILE = REPO / "workflow" / "Snakefile"

# The local SLURM has no accounting storage, so sacct (the plugin's default)
# knows no job: squeue is the status command here (MinJobAge=600 keeps
# finished jobs visible). Short polling keeps the test within its budget.
LOCAL_SLURM = [
    "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "2",
    "--seconds-between-status-checks", "2",
]


def snakemake(workdir, *args, profile="slurm", timeout=600, background=False):
    command = [
        "timeout", "-s", "KILL", str(timeout),
        sys.executable, "-m", "snakemake",
        "--snakefile", str(SNAKEFILE),
        "--directory", str(workdir),
        "--workflow-profile", profile,
        *args,
    ]
    if profile == "slurm":
        command += LOCAL_SLURM
    if background:
        return subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True)


def demo_dir(parent, name):
    workdir = parent / name
    (workdir / "config").mkdir(parents=True)
    config = (REPO / "config" / "config.yaml").read_text()
    (workdir / "config" / "config.yaml").write_text(config + "demo:\n  detector_size: 128\n")
    return workdir


@pytest.fixture(scope="module")
def local_demo(tmp_path_factory):
    """The small demo run locally with the default profile (the reference table)."""
    workdir = demo_dir(tmp_path_factory.mktemp("local"), "demo")
    result = snakemake(workdir, profile="default")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def running_job(rule, deadline):
    """The SLURM id of a RUNNING job of ``rule`` (its comment is rule_<name>...)."""
    while time.monotonic() < deadline:
        listing = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"],
                                 capture_output=True, text=True).stdout
        for line in listing.splitlines():
            jobid, comment = line.split(maxsplit=1)
            if comment.startswith(f"rule_{rule}"):
                return jobid
        time.sleep(0.3)
    return None


def test_cancelled_job_then_rerun_gives_the_local_sky_table(local_demo, tmp_path):
    workdir = demo_dir(tmp_path, "demo")
    run = snakemake(workdir, background=True)
    jobid = running_job("image_batch", time.monotonic() + 300)
    assert jobid, "no image_batch job ever ran on SLURM"
    subprocess.run(["scancel", jobid], check=True)
    output, _ = run.communicate(timeout=600)
    assert run.returncode != 0, output[-3000:]
    assert f"SLURM-job '{jobid}' failed" in output and "CANCELLED" in output
    assert not (workdir / "results" / "sky.ecsv").exists()

    rerun = snakemake(workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "has been submitted with SLURM jobid" in rerun.stderr
    local = (local_demo / "results" / "sky.ecsv").read_bytes()
    assert (workdir / "results" / "sky.ecsv").read_bytes() == local
    assert (workdir / "results" / "demo_recovered_vs_injected.ecsv").is_file()

    # --report after a cluster run, from this venv (runtime pins + the plugin)
    report = snakemake(workdir, "--report", "report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    assert "sky.ecsv" in (workdir / "report.html").read_text()


def test_bad_input_reason_reaches_the_console(tmp_path):
    good = write_image(tmp_path / "good.fits", dq=np.zeros((64, 80), np.uint32))
    bad = write_image(tmp_path / "baddq.fits", dq=np.zeros((10, 10), np.uint32))
    (tmp_path / "config").mkdir()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(images=[str(good), str(bad)], image_batches=1)
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path)
    assert result.returncode != 0
    console = result.stdout + result.stderr
    (reason,) = [line for line in (tmp_path / "logs" / "image_batch" / "i000.log").read_text().splitlines()
                 if "ERROR" in line]
    assert str(bad) in reason and "shape" in reason
    # --show-failed-logs (the profile) prints the job's log at the console
    assert reason in console
