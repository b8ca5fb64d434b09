"""Benchmark: what each job's process imports before it does any work (issue 29).

Not a test (no ``test_`` prefix; pytest does not collect it).  Run from the
repository root::

    /work/venv/bin/python tests/benchmarks/bench_imports.py            # 3 rounds
    /work/venv/bin/python tests/benchmarks/bench_imports.py --rounds 5
    /work/venv/bin/python tests/benchmarks/bench_imports.py --before /tmp/old/scripts  # an older checkout too
    /work/venv/bin/python tests/benchmarks/bench_imports.py --jobs --before /tmp/old/scripts  # real jobs, replayed

Every rule is a separate ``script:`` process, so each job pays for its
imports again.

``--jobs`` measures what the jobs really import: it runs the workflow once
on a small generated mosaic (2x2 images of 512x512, ``snakemake
--skip-script-cleanup``), then replays every job's script as Snakemake wrote
it (its preamble included) in a fresh ``python -X importtime`` process, in
the DAG's order, on a copy of the run without its results: the imports made
lazily while a job works count, and so does Snakemake's preamble (which
unpickles the job and imports ``snakemake``). With ``--before`` the other
checkout's workflow runs and replays too, alternating job by job.

Default mode: for each entry script under ``scripts/`` this imports, in a
fresh ``python -X importtime`` process, the package modules the script
imports at its top, and reports the median over the rounds of the total
import time (ms), its ratio to a bare interpreter start measured in the same
rounds, the same for the process's CPU time (user + system: less sensitive
to the load of other sessions than the wall-clock import time), and which of
the heavy third-party packages were loaded.  Rounds alternate between the
scripts (and, with ``--before``, between the two checkouts) so that load from
other sessions falls on all of them alike.
"""

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
# the rule entry scripts (not the demo's helpers run by hand)
ENTRIES = ["image_batch", "overlap_graph", "pair_batch", "solve_sky", "diagnostics", "apply_sky", "audit"]
HEAVY = ["scipy.stats", "scipy.sparse", "scipy.spatial", "scipy.special", "scipy.ndimage", "matplotlib", "astropy.table",
         "astropy.io.fits", "astropy.wcs", "astropy.coordinates", "astropy.nddata", "spherical_geometry", "gwcs", "asdf"]
TOP_IMPORT = re.compile(r"^(?:from\s+(skymatchflow[\w.]*)\s+import|import\s+(skymatchflow[\w.]*))", re.M)
LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)")


def entry_modules(name, scripts=SCRIPTS):
    """The package modules an entry script imports at its top."""
    text = (scripts / f"{name}.py").read_text()
    return sorted({a or b for a, b in TOP_IMPORT.findall(text)})


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_profile(modules, scripts=SCRIPTS):
    """(total ms, CPU ms of the process, {module: cumulative ms}) of importing ``modules`` in a fresh interpreter."""
    code = f"import sys; sys.path.insert(0, {str(scripts)!r})\n" + "".join(f"import {m}\n" for m in modules)
    cpu = _children_cpu()
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          check=True)
    cpu = (_children_cpu() - cpu) * 1000
    cumulative = {}
    total = 0
    for cum, indent, module in LINE.findall(done.stderr):
        cumulative[module] = int(cum) / 1000
        if len(indent) == 1:  # a top-level import of this process
            total += int(cum) / 1000
    return total, cpu, cumulative


# the order a cold run's jobs run in (each waits for the ones before it)
JOB_ORDER = ["image_batch", "overlap_graph", "pair_batch", "solve_sky", "diagnostics_map", "diagnostics"]


def cold_run_scripts(repo, workdir):
    """Run the workflow of checkout ``repo`` cold in ``workdir`` and keep its jobs' scripts: [(rule, script)]."""
    sys.path[:0] = [str(REPO / "tests" / "benchmarks")]
    from bench_workflow import make_mosaic, write_workflow_config

    paths, _extra = make_mosaic(workdir.parent / "data", 2, 512, 20260808)
    write_workflow_config(workdir, paths)
    subprocess.run(["timeout", "-s", "KILL", "900", sys.executable, "-m", "snakemake", "--snakefile",
                    str(repo / "workflow" / "Snakefile"), "--directory", str(workdir), "--cores", "2",
                    "--skip-script-cleanup", "--quiet", "all"], check=True, capture_output=True)
    scripts = [(path.name.split(".")[1], path) for path in (workdir / ".snakemake" / "scripts").glob("*.py")]
    return sorted(((rule, path) for rule, path in scripts if rule in JOB_ORDER),
                  key=lambda item: (JOB_ORDER.index(item[0]), item[1].name))


def fresh_copy(workdir, target):
    """A copy of a finished run without its results (the rule identities kept), to replay its jobs cold."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(workdir, target, symlinks=True, ignore=shutil.ignore_patterns("results", "logs", "benchmarks"))
    if (workdir / "results" / ".identity").is_dir():
        shutil.copytree(workdir / "results" / ".identity", target / "results" / ".identity")
    for rule in JOB_ORDER:
        (target / "logs" / rule).mkdir(parents=True, exist_ok=True)
    return target


def replay(script, cwd):
    """(import ms, of which snakemake's own ms, process wall s, CPU s, {module: ms}) of one job script run cold."""
    cpu = _children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-X", "importtime", str(script)], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - cpu
    if done.returncode:
        raise SystemExit(f"{script.name} failed in {cwd}:\n{done.stderr[-3000:]}")
    cumulative, total, own = {}, 0.0, 0.0
    for cum, indent, module in LINE.findall(done.stderr):
        cumulative[module] = int(cum) / 1000
        if len(indent) == 1:
            total += int(cum) / 1000
            if module.split(".")[0] in ("snakemake", "pickle"):
                own += int(cum) / 1000
    return total, own, wall, cpu, cumulative


def main_jobs(args):
    """The ``--jobs`` mode: every job of a real cold run replayed, its imports and its process's time."""
    trees = {"": REPO} if args.before is None else {"": REPO, " (before)": args.before.resolve().parent}
    scratch = Path(tempfile.mkdtemp(prefix="bench_imports_"))
    try:
        runs = {label: (scratch / f"run{k}" / "work", cold_run_scripts(repo, scratch / f"run{k}" / "work"))
                for k, (label, repo) in enumerate(trees.items())}
        rows = {}
        for round_ in range(args.rounds):
            copies = {label: fresh_copy(work, scratch / f"replay{k}_{round_}")
                      for k, (label, (work, _)) in enumerate(runs.items())}
            for step in range(max(len(scripts) for _, scripts in runs.values())):
                for label, (_, scripts) in runs.items():
                    if step < len(scripts):
                        rule, script = scripts[step]
                        copied = copies[label] / script.relative_to(runs[label][0])
                        result = replay(copied, copies[label])
                        rows.setdefault((f"{rule}{label}", step), []).append(result)
        with open("/proc/loadavg") as handle:
            load = " ".join(handle.read().split()[:3])
        print(f"## Imports of each job of a cold run, replayed (median of {args.rounds} rounds, load average {load})\n")
        print("| job | imports (ms) | of which Snakemake's preamble (ms) | process wall (s) | process CPU (s) "
              "| heavy packages loaded |")
        print("|---|---:|---:|---:|---:|---|")
        for (name, _), results in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            loaded = [heavy for heavy in HEAVY if heavy in results[-1][4]]
            print(f"| {name} | {statistics.median(r[0] for r in results):.0f} "
                  f"| {statistics.median(r[1] for r in results):.0f} "
                  f"| {statistics.median(r[2] for r in results):.2f} | {statistics.median(r[3] for r in results):.2f} "
                  f"| {', '.join(loaded) or '-'} |")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="the scripts/ directory of another checkout, measured alongside")
    parser.add_argument("--jobs", action="store_true",
                        help="replay the jobs of a real cold run (lazy imports and Snakemake's preamble included)")
    args = parser.parse_args(argv)
    if args.jobs:
        return main_jobs(args)
    trees = {"": SCRIPTS} if args.before is None else {"": SCRIPTS, " (before)": args.before.resolve()}
    jobs = {f"{name}{label}": (entry_modules(name, scripts), scripts) for name in ENTRIES
            for label, scripts in trees.items() if (scripts / f"{name}.py").is_file()}
    totals = {name: [] for name in ["(bare interpreter)", *jobs]}
    cpus = {name: [] for name in totals}
    loaded = {}
    for _ in range(args.rounds):
        total, cpu, _cumulative = import_profile([])
        totals["(bare interpreter)"].append(total)
        cpus["(bare interpreter)"].append(cpu)
        for name, (modules, scripts) in jobs.items():
            total, cpu, cumulative = import_profile(modules, scripts)
            totals[name].append(total)
            cpus[name].append(cpu)
            loaded[name] = [heavy for heavy in HEAVY if heavy in cumulative]
    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    bare = statistics.median(totals["(bare interpreter)"])
    bare_cpu = statistics.median(cpus["(bare interpreter)"])
    print(f"## Imports per job (median of {args.rounds} rounds, load average {load})\n")
    print("| job | imports (ms) | ratio to a bare start | process CPU (ms) | CPU ratio to a bare start "
          "| heavy packages loaded |")
    print("|---|---:|---:|---:|---:|---|")
    for name, values in totals.items():
        ms, cpu = statistics.median(values), statistics.median(cpus[name])
        print(f"| {name} | {ms:.0f} | {ms / bare:.1f} | {cpu:.0f} | {cpu / bare_cpu:.1f} "
              f"| {', '.join(loaded.get(name, [])) or '-'} |")


if __name__ == "__main__":
    main()
