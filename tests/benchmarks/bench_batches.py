"""Benchmark: cold runs of a mosaic at explicit batch counts, against 'auto' (issue 29).

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_batches.py                  # 16 images of 2048x2048
    .venv/bin/python tests/benchmarks/bench_batches.py --side 2 --size 1024 --counts 1 2   # smoke run

On the 2048x2048 mosaic of bench_workflow.py (``--side`` squared images),
each batch count in ``--counts`` (image and pair batches alike) is run cold
in a directory of its own, in turn, ``--repeats`` times; printed as ONE
Markdown table with each count's wall time as a ratio to the first count's
in the same round, and the load (the machine is shared: compare ratios).
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import STEP_CONFIG, make_mosaic, run_workflow, write_workflow_config

TIMEOUT = 1800


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=4, help="images per mosaic side (default 4: 16 images)")
    parser.add_argument("--size", type=int, default=2048, help="pixels per image side (default 2048)")
    parser.add_argument("--counts", nargs="+", default=["1", "2", "auto"], help="batch counts (default 1 2 auto)")
    parser.add_argument("--repeats", type=int, default=2, help="rounds over the counts (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="bench_batches_"))
    scratch.mkdir(parents=True, exist_ok=True)
    paths = make_mosaic(scratch / "data", args.side, args.size, seed=7)[0]
    rows = []
    for round_ in range(args.repeats):
        first = None
        for count in args.counts:
            STEP_CONFIG.update(image_batches=count if count == "auto" else int(count))
            STEP_CONFIG.update(pair_batches=STEP_CONFIG["image_batches"])
            workdir = scratch / f"work_{count}"
            shutil.rmtree(workdir, ignore_errors=True)
            write_workflow_config(workdir, paths)
            run = run_workflow(f"cold_{count}_{round_}", workdir, scratch, TIMEOUT)
            jobs = sum(1 for row in run.jobs if row[0] in ("image_batch", "pair_batch"))
            first = first or run.wall
            rows.append((round_ + 1, count, run.wall, run.cpu, jobs, run.wall / first, os.getloadavg()[0], run.rc))
    print(f"\n{len(paths)} images of {args.size}x{args.size}, 2 cores (shared); scratch {scratch}\n")
    print("| round | batches | wall (s) | CPU (s) | batch jobs | wall / first count's | load (1 min) | exit |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]} | {r[5]:.2f} | {r[6]:.1f} | {r[7]} |")


if __name__ == "__main__":
    main()
