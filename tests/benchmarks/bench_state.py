"""Benchmark: what sound state costs at survey scale (issue 12).

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_state.py --n 2000

On the survey strip of bench_workflow.py (N images of 256x256), in one run
on one machine: a cold run, then runs with nothing to do, after one input
replaced by a copy with an older mtime (cp -p), after a forced re-run of
every pair batch (every pair linked from the store, none computed), and the
size of the product store against the outputs that link it. Prints one
Markdown table with each figure as a ratio to the cold run.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import make_survey, measure, write_workflow_config

PYTHON = sys.executable
SNAKEFILE = Path(__file__).resolve().parents[2] / "workflow" / "Snakefile"


def snakemake(label, workdir, scratch, *args, timeout=7200):
    cmd = [PYTHON, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
           "--cores", "2", *args]
    return measure(label, cmd, scratch / f"{label}.log", cwd=workdir, timeout=timeout)


def disk_usage(path):
    """Bytes of distinct inodes under ``path`` (hard links counted once)."""
    seen, total = set(), 0
    for root, _, files in os.walk(path):
        for name in files:
            info = os.stat(os.path.join(root, name))
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                total += info.st_blocks * 512
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="survey size (default 2000)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="bench_state_"))
    workdir = scratch / "work"
    paths = make_survey(scratch / "data", args.n, seed=12)
    write_workflow_config(workdir, paths)

    rows = []
    cold = snakemake("cold", workdir, scratch)
    rows.append(("cold run", cold))
    rows.append(("nothing to do", snakemake("noop", workdir, scratch)))
    victim = paths[len(paths) // 2]
    replacement = scratch / "replacement.fits"
    subprocess.run(["cp", "-p", str(paths[len(paths) // 2 + 1]), str(replacement)], check=True)
    subprocess.run(["cp", "-p", str(replacement), str(victim)], check=True)  # older content, older mtime
    rows.append(("one input replaced by cp -p", snakemake("replaced", workdir, scratch)))
    rows.append(("every pair batch forced (all linked)",
                 snakemake("forced_pairs", workdir, scratch, "--forcerun", "pair_batch")))
    results = workdir / "results"
    store = disk_usage(results / "store")
    everything = disk_usage(results)

    print(f"\nN = {args.n} images of 256x256, 2 cores; scratch {scratch}\n")
    print("| run | wall (s) | ratio to cold | exit |")
    print("|---|---:|---:|---:|")
    for label, run in rows:
        print(f"| {label} | {run.wall:.1f} | {run.wall / cold.wall:.3f} | {run.rc} |")
    print(f"\nresults/ on disk: {everything / 1e6:.1f} MB, of which the store {store / 1e6:.1f} MB "
          f"(outputs link it: {(everything - store) / 1e6:.1f} MB more, tables and logs)")


if __name__ == "__main__":
    main()
