"""What SLURM costs this workflow: per-job overhead and the SLURM/local ratio, in one invocation.

Needs the CI's SLURM (`.ci/slurm start`) and the cluster venv (the executor
plugin). Writes the survey strip of bench_workflow.py (N images of 256x256),
runs it locally (`--cores 2`, the default profile) and on SLURM (the shipped
profile; squeue as status command, as the CI's SLURM has no accounting
storage), and prints:

- the wall times and their ratio (SLURM / local, same cores: the node has 2);
- per SLURM job: its run time in SLURM minus the rule's own time (the
  benchmark file's ``s``), i.e. what the job's two Snakemake starts and
  SLURM's step launch cost; median and largest;
- whether the two sky tables are byte-identical.

Each side may have its own batch counts (``--slurm-image-batches``,
``--slurm-pair-batches``; by default the local ones): the README sizes
batches near the number of cores locally and by the work per job on a
cluster. The sky table's rows do not depend on them (its metadata record them).

Usage: .venv-slurm/bin/python tests/benchmarks/bench_slurm.py [--n 300] [--image-batches 2]
       [--pair-batches 2] [--slurm-image-batches N] [--slurm-pair-batches N] [--poll 10]
"""

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_workflow import make_survey, write_workflow_config

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"


def run(workdir, *args):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
               "--directory", str(workdir), *args]
    start = time.monotonic()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"snakemake failed in {workdir}:\n{result.stderr[-3000:]}")
    return wall


def seconds(duration):
    """SLURM's [D-]HH:MM:SS as seconds."""
    days, _, clock = duration.rpartition("-")
    h, m, s = (int(part) for part in clock.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + s


def slurm_jobs(workdir):
    listing = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True).stdout
    jobs = []
    for line in listing.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("WorkDir") == str(workdir) and fields.get("JobState") == "COMPLETED":
            jobs.append(fields)
    return jobs


def rule_seconds(workdir, comment):
    """The rule's own time from its benchmark file (rule_<rule>_wildcards_<batch>)."""
    rule, _, batch = comment.removeprefix("rule_").partition("_wildcards_")
    path = workdir / "benchmarks" / rule / f"{batch}.tsv" if batch else workdir / "benchmarks" / f"{rule}.tsv"
    with open(path) as table:
        row = dict(zip(table.readline().split("\t"), table.readline().split("\t")))
    return float(row["s"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--image-batches", type=int, default=2)
    parser.add_argument("--pair-batches", type=int, default=2)
    parser.add_argument("--slurm-image-batches", type=int, help="on SLURM (default: --image-batches)")
    parser.add_argument("--slurm-pair-batches", type=int, help="on SLURM (default: --pair-batches)")
    parser.add_argument("--poll", type=int, default=10, help="seconds between status checks (profile: 10)")
    args = parser.parse_args(argv)
    batches = {
        "local": (args.image_batches, args.pair_batches),
        "slurm": (args.slurm_image_batches or args.image_batches, args.slurm_pair_batches or args.pair_batches),
    }
    scratch = Path(tempfile.mkdtemp(prefix="bench_slurm_"))
    paths = make_survey(scratch / "data", args.n, seed=12)
    workdirs = {}
    for label in ("local", "slurm"):
        workdirs[label] = scratch / label
        write_workflow_config(workdirs[label], paths)
        config_path = workdirs[label] / "config" / "config.yaml"
        config = yaml.safe_load(config_path.read_text())
        config.update(image_batches=batches[label][0], pair_batches=batches[label][1])
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    local = run(workdirs["local"], "--cores", "2")
    slurm = run(workdirs["slurm"], "--workflow-profile", "slurm", "--slurm-status-command", "squeue",
                "--seconds-between-status-checks", str(args.poll),
                "--slurm-init-seconds-before-status-checks", str(args.poll))
    overheads = []
    for job in slurm_jobs(workdirs["slurm"]):
        overheads.append((seconds(job["RunTime"]) - rule_seconds(workdirs["slurm"], job["Comment"]), job["Comment"]))
    tables = {label: (workdir / "results" / "sky.ecsv").read_text() for label, workdir in workdirs.items()}
    if batches["local"] == batches["slurm"]:
        same = f"sky tables byte-identical: {tables['local'] == tables['slurm']}"
    else:  # the tables' metadata record the config (batch counts) and its key
        rows = {label: [line for line in text.splitlines() if not line.startswith("#")]
                for label, text in tables.items()}
        same = f"sky table rows identical (the metadata record the batch counts): {rows['local'] == rows['slurm']}"
    print(f"survey strip, {args.n} images of 256x256, status polls every {args.poll} s; scratch {scratch}")
    print(f"local (--cores 2, {'+'.join(map(str, batches['local']))} batches): {local:.1f} s   "
          f"SLURM ({'+'.join(map(str, batches['slurm']))} batches): {slurm:.1f} s   "
          f"SLURM/local: {slurm / local:.2f}x")
    values = [value for value, _ in overheads]
    print(f"per-job overhead (SLURM run time - the rule's own time), {len(values)} jobs: "
          f"median {statistics.median(values):.1f} s, largest {max(values):.1f} s")
    for value, comment in sorted(overheads, reverse=True):
        print(f"  {comment}: {value:.1f} s")
    print(same)


if __name__ == "__main__":
    main()
