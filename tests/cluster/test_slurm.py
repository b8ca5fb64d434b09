"""The workflow on a real one-node SLURM through the shipped profile.

Run by .ci/run after `.ci/slurm start`, with the cluster environment
(envs/requirements-slurm.txt): `.venv-slurm/bin/python -m pytest tests/cluster`.
Not part of the default test run (pytest.ini's testpaths), because it needs
a SLURM controller and the executor plugin. The SLURM of .ci/slurm enforces
memory requests as sites do (OverMemoryKill), has no accounting storage (no
sacct), and runs on this machine, so every job's processes are sampled here
(helpers/slurm_memory) and their whole-job peaks compared with the requests.
Each test compares what a cluster user sees with a local run of the same config.
"""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime

import numpy as np
import pytest
import yaml

from helpers.images import tan_wcs, write_image
from helpers.paths import REPO
from helpers.slurm_memory import JobMemorySampler

SNAKEFILE = REPO / "workflow" / "Snakefile"
README = (REPO / "README.md").read_text()

# The local SLURM has no accounting storage, so sacct (the plugin's default)
# knows no job: squeue is the status command here (MinJobAge=600 keeps
# finished jobs visible), as the workflow says at start when it is missing.
# Short polling keeps the tests within their budget.
SQUEUE = ["--slurm-status-command", "squeue"]
FAST_POLLING = [
    "--slurm-init-seconds-before-status-checks", "2",
    "--seconds-between-status-checks", "2",
]
# README "On a cluster", recovery after the main snakemake was lost: run as written.
CANCEL_LOST_RUN = ('grep -ho "SLURM run ID: \\S*" .snakemake/log/*.snakemake.log '
                   '| cut -d" " -f4 | xargs -rn1 scancel --name')


def snakemake_command(workdir, *args, profile="slurm", status=SQUEUE):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
               "--directory", str(workdir), "--workflow-profile", profile, *args]
    if profile == "slurm":
        command += status + FAST_POLLING
    return command


def snakemake(workdir, *args, timeout=600, **kwargs):
    command = ["timeout", "-s", "KILL", str(timeout), *snakemake_command(workdir, *args, **kwargs)]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True)


def demo_dir(parent, name):
    workdir = parent / name
    (workdir / "config").mkdir(parents=True)
    config = (REPO / "config" / "config.yaml").read_text()
    (workdir / "config" / "config.yaml").write_text(config + "demo:\n  detector_size: 128\n")
    return workdir


def images_dir(workdir, paths, **settings):
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(images=[str(path) for path in paths], **settings)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def survey_strip(directory, n, size=64):
    """``n`` small overlapping images in two rows along RA (a survey's job count and DAG, little data)."""
    directory.mkdir(parents=True)
    rng = np.random.default_rng(25)
    tile = size * 0.5 / 3600.0
    paths = []
    for k in range(n):
        col, row = divmod(k, 2)
        crval = (20.0 + col * 0.8 * tile, (row - 0.5) * 0.85 * tile)
        sci = rng.normal(10.0 + rng.normal(0, 0.5), 1.0, (size, size)).astype(np.float32)
        paths.append(write_image(directory / f"srv_{k:04d}_cal.fits", shape=(size, size), sci=sci,
                                 wcs=tan_wcs((size, size), crval, 0.5, rng.uniform(-3, 3))))
    return paths


def slurm_jobs(workdir):
    """{job id: scontrol's fields} of every job run from ``workdir`` (kept 600 s: MinJobAge)."""
    listing = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True).stdout
    jobs = {}
    for line in listing.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("WorkDir") == str(workdir):
            jobs[fields["JobId"]] = fields
    return jobs


def assert_requests_cover_peaks(sampler, jobs):
    """Every job's mem_mb request holds its whole-job peak (both Snakemake processes and the script)."""
    peaks = sampler.peaks()
    compared = []
    for jobid, fields in jobs.items():
        if fields["JobState"] != "COMPLETED" or jobid not in peaks:
            continue
        request_mb = int(fields["MinMemoryNode"].rstrip("M"))
        compared.append((fields["Comment"], peaks[jobid], request_mb))
        print(f"{fields['Comment']}: whole-job peak {peaks[jobid]:.0f} MB, request {request_mb} MB, "
              f"margin {request_mb / peaks[jobid]:.2f}x")
    assert compared, jobs
    for comment, peak_mb, request_mb in compared:
        assert peak_mb <= request_mb, (comment, peak_mb, request_mb)
    return compared


@pytest.fixture(scope="module")
def local_demo(tmp_path_factory):
    """The small demo run locally with the default profile (the reference table)."""
    workdir = demo_dir(tmp_path_factory.mktemp("local"), "demo")
    result = snakemake(workdir, profile="default")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def job_states(rule):
    listing = subprocess.run(["squeue", "-h", "-o", "%i %T %k"], capture_output=True, text=True).stdout
    return [line.split() for line in listing.splitlines() if line.split()[2].startswith(f"rule_{rule}")]


def test_without_accounting_storage_the_run_stops_at_once_saying_what_to_add(tmp_path):
    workdir = demo_dir(tmp_path, "demo")
    started = time.monotonic()
    result = snakemake(workdir, status=[], timeout=120)
    assert result.returncode != 0
    assert ("Error: SLURM job states are read with sacct, but sacct cannot report jobs here "
            "(Slurm accounting storage is disabled): add --slurm-status-command squeue") in result.stderr
    assert "has been submitted" not in result.stderr
    assert time.monotonic() - started < 60
    assert not slurm_jobs(workdir)


def test_lost_main_process_then_documented_recovery_gives_the_local_sky_table(local_demo, tmp_path):
    """SIGKILL of the main snakemake while jobs run and wait, then README's recovery.

    No job runs twice at once (each job of the re-run was submitted after every
    job of the lost run with the same rule and batch had ended), every job's
    request holds its measured whole-job peak (the demo's size), and the sky
    table equals the local run's byte for byte.
    """
    assert CANCEL_LOST_RUN in README
    workdir = demo_dir(tmp_path, "demo")
    with JobMemorySampler() as sampler:
        run = subprocess.Popen(snakemake_command(workdir), cwd=workdir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any(state == "RUNNING" for _, state, _ in job_states("image_batch")):
            time.sleep(0.5)
        waiting = job_states("image_batch")
        assert any(state == "RUNNING" for _, state, _ in waiting), "no image_batch job ever ran on SLURM"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        lost = {jobid for jobid, fields in slurm_jobs(workdir).items() if fields["JobState"] in ("RUNNING", "PENDING")}
        assert lost, "the lost run left no job behind to cancel"

        subprocess.run(["bash", "-c", CANCEL_LOST_RUN], cwd=workdir, check=True)
        unlock = snakemake(workdir, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-3000:]
        rerun = snakemake(workdir)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    jobs = slurm_jobs(workdir)
    assert all(jobs[jobid]["JobState"] == "CANCELLED" for jobid in lost), {j: jobs[j]["JobState"] for j in lost}
    for first in jobs.values():
        for second in jobs.values():
            if first["Comment"] == second["Comment"] and first["JobName"] != second["JobName"] \
                    and first["SubmitTime"] < second["SubmitTime"]:
                assert first["EndTime"] <= second["SubmitTime"], (first, second)
    local = (local_demo / "results" / "sky.ecsv").read_bytes()
    assert (workdir / "results" / "sky.ecsv").read_bytes() == local
    assert (workdir / "results" / "demo_recovered_vs_injected.ecsv").is_file()
    assert_requests_cover_peaks(sampler, jobs)

    # --report after a cluster run, from this venv (runtime pins + the plugin)
    report = snakemake(workdir, "--report", "report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    assert "sky.ecsv" in (workdir / "report.html").read_text()


def seconds_seen_after_end(workdir, jobs):
    """{SLURM job id: seconds from its end (scontrol's EndTime) to the main Snakemake's "Finished" line}."""
    (log,) = (workdir / ".snakemake" / "log").glob("*.snakemake.log")
    text = log.read_text()
    slurm_id = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", text))
    seen, stamp = {}, None
    for line in text.splitlines():
        if re.fullmatch(r"\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\]", line):
            stamp = datetime.strptime(line.strip("[]"), "%a %b %d %H:%M:%S %Y")
        finished = re.match(r"Finished jobid: (\d+) ", line)
        if finished and finished.group(1) in slurm_id:
            seen[slurm_id[finished.group(1)]] = stamp
    return {jobid: (when - datetime.fromisoformat(jobs[jobid]["EndTime"])).total_seconds()
            for jobid, when in seen.items()}


def test_requests_cover_whole_job_peaks_at_300_images_and_job_ends_are_seen_within_a_poll(tmp_path):
    """A few hundred images: the Snakemake processes parse a larger DAG; requests still hold.

    Every job's end is seen within a poll (2 s here) and some seconds of a
    loaded machine: the plugin alone would wait 12, 22, 32 s between polls
    while jobs of 20-40 s run (jobs/slurmpolling caps that back-off).
    """
    paths = survey_strip(tmp_path / "data", 300)
    workdir = images_dir(tmp_path / "run", paths, image_batches=2, pair_batches=2, image_sheet=None)
    with JobMemorySampler() as sampler:
        result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = slurm_jobs(workdir)
    compared = assert_requests_cover_peaks(sampler, jobs)
    assert {comment.split("_wildcards")[0] for comment, _, _ in compared} >= {"rule_image_batch", "rule_pair_batch"}
    late = seconds_seen_after_end(workdir, jobs)
    print(f"job ends seen after (s): {late}")
    assert len(late) == len(jobs) and max(late.values()) <= 8, late


def test_a_memory_kill_reason_reaches_the_console(tmp_path):
    paths = [write_image(tmp_path / f"img{k}.fits", wcs=tan_wcs((64, 80), (150.1 + k * 0.005, 2.2))) for k in range(2)]
    workdir = images_dir(tmp_path / "run", paths, image_batches=1, image_sheet=None)
    # 100 MB: below one Snakemake process alone (~130 MB), so every memory sample of the job exceeds it
    # (SLURM samples; with 150 MB a sample that caught one process only let the job finish)
    result = snakemake(workdir, "--set-resources", "image_batch:mem_mb=100")
    assert result.returncode != 0
    (jobid,) = slurm_jobs(workdir)
    line = next((line for line in result.stderr.splitlines() if line.startswith(f"SLURM job {jobid} ")), "")
    assert line.startswith(f"SLURM job {jobid} (rule image_batch, batch i000) failed: "
                           "killed by SLURM for exceeding its memory request ("), result.stderr[-3000:]
    assert "MB > 100 MB); raise it with --set-resources image_batch:mem_mb=N" in line


def test_a_cancelled_job_reason_reaches_the_console(tmp_path):
    """scancel of a running job: the plugin says CANCELLED; the workflow's line names rule and batch."""
    paths = [write_image(tmp_path / f"img{k}.fits", wcs=tan_wcs((64, 80), (150.1 + k * 0.005, 2.2))) for k in range(2)]
    workdir = images_dir(tmp_path / "run", paths, image_batches=1, image_sheet=None)
    run = subprocess.Popen(["timeout", "-s", "KILL", "300", *snakemake_command(workdir)], cwd=workdir,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    running = []
    while time.monotonic() < deadline and not running:
        running = [jobid for jobid, state, _ in job_states("image_batch") if state == "RUNNING"]
        time.sleep(0.3)
    assert running, "no image_batch job ever ran on SLURM"
    subprocess.run(["scancel", running[0]], check=True)
    output, _ = run.communicate(timeout=300)
    assert run.returncode != 0
    assert f"SLURM job {running[0]} (rule image_batch, batch i000) failed: cancelled" in output, output[-3000:]


def test_bad_input_reason_reaches_the_console(tmp_path):
    """A bad file only the job can see (DQ values, not headers): its one line at the console."""
    good = write_image(tmp_path / "good.fits", dq=np.zeros((64, 80), np.uint32))
    bad = write_image(tmp_path / "baddq.fits", dq=np.full((64, 80), 2**40, np.uint64))
    workdir = images_dir(tmp_path / "run", [good, bad], image_batches=1, image_sheet=None)
    result = snakemake(workdir)
    assert result.returncode != 0
    console = result.stdout + result.stderr
    (reason,) = [line for line in (workdir / "logs" / "image_batch" / "i000.log").read_text().splitlines()
                 if "ERROR" in line]
    assert str(bad) in reason and "32 bits" in reason
    (jobid,) = slurm_jobs(workdir)
    assert f"SLURM job {jobid} (rule image_batch, batch i000) failed: {reason.strip()}" in console
