"""Benchmark: how the workflow scales on the survey strip, and what re-runs cost (issue 17).

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_scaling.py                    # N = 500, 2000
    .venv/bin/python tests/benchmarks/bench_scaling.py --n 500 2000 8000 20000 --survey /tmp/survey
    .venv/bin/python tests/benchmarks/bench_scaling.py --n 200 --rerun-n 200   # smoke run
    .venv/bin/python tests/benchmarks/bench_scaling.py --n 2000 --cases nothing add   # issue 29's two ratios

On the survey strip of bench_workflow.py (N images of 256x256, default
config, one group per image), measured with its launcher (wall, CPU of the
whole process tree, peak RSS) and printed as ONE Markdown table:

* a cold run at every N, the pair stage's share of job time (pair_batch
  benchmark TSVs: seconds and CPU per image pair), and two fitted laws,
  T = a + b N (least squares) and T = c N^p (log-log fit);
* at N = ``--rerun-n`` (default 2000), in the cold run's directory: nothing
  to do; one image added; one removed; one replaced by another image's
  bytes; the solve only (``--forcerun solve_sky``); a statistic change
  (``skystat: mean``), each as a ratio to that cold run (``--cases``: some
  of them only), with the jobs each run ran, per rule.

Batch counts are the config's default (``auto``) unless ``--batches`` sets
both; the heading gives the load at the end (the machine is shared).

Every snakemake call is guarded by ``timeout -s KILL``; data are generated
under a temporary directory (or ``--keep DIR``), never in the repository.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import STEP_CONFIG, make_survey, run_workflow, write_workflow_config

TIMEOUT = 4 * 3600


def pair_stage(run):
    """(job seconds, CPU seconds) of the run's pair_batch jobs."""
    rows = [r for r in getattr(run, "jobs", []) if r[0] == "pair_batch"]
    return sum(r[2] or 0.0 for r in rows), sum(r[4] or 0.0 for r in rows)


def jobs_run(run):
    """'image_batch 1, pair_batch 2, ...': the jobs a run ran, per rule (from their benchmark TSVs)."""
    counts = {}
    for row in getattr(run, "jobs", []):
        counts[row[0]] = counts.get(row[0], 0) + 1
    return ", ".join(f"{rule} {count}" for rule, count in sorted(counts.items())) or "none"


def image_pairs(workdir):
    """Number of group pairs the run's overlap graph lists (pair files linked)."""
    return sum(1 for _ in (workdir / "results" / "pairs").glob("*/*.json"))


def set_config(workdir, **changes):
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config.update(changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _load():
    """The 1-minute load average (uptime's first figure)."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def fit_laws(ns, walls):
    ns, walls = np.asarray(ns, float), np.asarray(walls, float)
    b, a = np.polyfit(ns, walls, 1)
    p, logc = np.polyfit(np.log(ns), np.log(walls), 1)
    return a, b, float(np.exp(logc)), p


def survey(directory, n):
    """The first ``n`` images of the survey kept in ``directory``, generated there if it holds fewer.

    make_survey draws image after image from one seeded generator, so the
    first n images of a larger survey are the survey of n: one 20,000-image
    directory (about 11 GB) serves every cold run.
    """
    paths = sorted(directory.glob("srv_*_cal.fits"))
    if len(paths) < n:
        paths = make_survey(directory, n, seed=12)
    return paths[:n]


CASES = ("nothing", "add", "remove", "replace", "solve", "stat")


def rerun_cases(n, scratch, which=CASES):
    """The cold run at ``n`` and the re-runs named in ``which`` (CASES), each (label, Run)."""
    workdir = scratch / f"work_{n}"
    paths = make_survey(scratch / f"data_{n}", n + 1, seed=12)
    extra, paths = paths[-1], paths[:-1]
    write_workflow_config(workdir, paths)
    cold = run_workflow(f"rerun_cold_{n}", workdir, scratch, TIMEOUT)
    cases = [("cold", cold)]
    if "nothing" in which:
        cases.append(("nothing to do", run_workflow("noop", workdir, scratch, TIMEOUT)))
    if "add" in which:
        write_workflow_config(workdir, paths + [extra])
        cases.append(("add one image", run_workflow("add_one", workdir, scratch, TIMEOUT)))
        write_workflow_config(workdir, paths)
    if not set(which) & {"remove", "replace", "solve", "stat"}:
        return workdir, cases
    cases.append(("remove one image", run_workflow("remove_one", workdir, scratch, TIMEOUT)))
    victim = paths[len(paths) // 2]
    shutil.copyfile(paths[len(paths) // 2 + 1], victim)
    cases.append(("replace one image", run_workflow("replace_one", workdir, scratch, TIMEOUT)))
    from bench_state import snakemake

    cases.append(("solve only", snakemake("solve_only", workdir, scratch, "--forcerun", "solve_sky",
                                          timeout=TIMEOUT)))
    set_config(workdir, skystat="mean")
    cases.append(("statistic change (skystat: mean)", run_workflow("stat_change", workdir, scratch, TIMEOUT)))
    return workdir, cases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[500, 2000], help="cold-run sizes (default 500 2000)")
    parser.add_argument("--rerun-n", type=int, default=2000, help="size for the re-run cases (0: none)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES),
                        help="which re-run cases (default all; 'nothing add' for issue 29's two ratios)")
    parser.add_argument("--batches", type=int, default=None,
                        help="image_batches and pair_batches (default: the config's default, auto)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this directory and keep it")
    parser.add_argument("--survey", type=Path, default=None,
                        help="keep the cold runs' images in this directory and reuse them (the first N)")
    args = parser.parse_args(argv)
    if args.batches:
        STEP_CONFIG.update(image_batches=args.batches, pair_batches=args.batches)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="bench_scaling_"))
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.time()

    cold = {}
    for n in args.n:
        if n == args.rerun_n:
            continue  # measured with the re-runs, in the same directory
        workdir = scratch / f"work_{n}"
        data = survey(args.survey, n) if args.survey else make_survey(scratch / f"data_{n}", n, seed=12)
        write_workflow_config(workdir, data)
        cold[n] = (run_workflow(f"cold_{n}", workdir, scratch, TIMEOUT), workdir)
    reruns = []
    if args.rerun_n:
        workdir, reruns = rerun_cases(args.rerun_n, scratch, args.cases)
        cold[args.rerun_n] = (reruns[0][1], workdir)
        if args.rerun_n not in args.n:
            cold.pop(args.rerun_n)
            cold_rerun = reruns[0][1]
    batches = f"{args.batches} + {args.batches} batches" if args.batches else "batch counts auto"
    print(f"\nsurvey strip, 256x256 images, {batches}, 2 cores (shared; load at the end: {_load()}); "
          f"scratch {scratch}; "
          f"{(time.time() - started) / 60:.0f} min in all\n")
    print("| case | N | wall (s) | CPU (s) | peak RSS (MB) | pair stage s / CPU s | per pair ms (CPU) "
          "| ratio to cold | exit | jobs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in sorted(cold):
        run, workdir = cold[n]
        seconds, cpu = pair_stage(run)
        pairs = image_pairs(workdir)
        per_pair = f"{cpu / pairs * 1e3:.1f}" if pairs else ""
        print(f"| cold | {n} | {run.wall:.1f} | {run.cpu:.1f} | {run.maxrss_mb:.0f} | {seconds:.1f} / {cpu:.1f} "
              f"| {per_pair} | 1 | {run.rc} | {jobs_run(run)} |")
    base = reruns[0][1] if reruns else None
    for label, run in reruns[1:]:
        seconds, cpu = pair_stage(run)
        print(f"| {label} | {args.rerun_n} | {run.wall:.1f} | {run.cpu:.1f} | {run.maxrss_mb:.0f} "
              f"| {seconds:.1f} / {cpu:.1f} | | {run.wall / base.wall:.3f} | {run.rc} | {jobs_run(run)} |")
    if reruns and args.rerun_n not in args.n:
        print(f"\n(cold run of the re-run directory: wall {cold_rerun.wall:.1f} s)")
    if len(cold) >= 2:
        ns = sorted(cold)
        a, b, c, p = fit_laws(ns, [cold[n][0].wall for n in ns])
        print(f"\nfitted laws (cold wall): T = {a:.1f} s + {b * 1e3:.2f} ms x N;  T = {c:.3g} x N^{p:.2f}")


if __name__ == "__main__":
    main()
