"""Benchmark: what each job's process imports before it does any work (issue 29).

Not a test (no ``test_`` prefix; pytest does not collect it).  Run from the
repository root::

    /work/venv/bin/python tests/benchmarks/bench_imports.py            # 3 rounds
    /work/venv/bin/python tests/benchmarks/bench_imports.py --rounds 5
    /work/venv/bin/python tests/benchmarks/bench_imports.py --before /tmp/old/scripts  # an older checkout too

Every rule is a separate ``script:`` process, so each job pays for its
imports again.  For each entry script under ``scripts/`` this imports, in a
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
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
# the rule entry scripts (not the demo's helpers run by hand)
ENTRIES = ["image_batch", "overlap_graph", "pair_batch", "solve_sky", "diagnostics", "apply_sky", "audit"]
HEAVY = ["scipy.stats", "scipy.sparse", "scipy.ndimage", "matplotlib", "astropy.table", "astropy.io.fits",
         "astropy.wcs", "astropy.coordinates", "spherical_geometry", "gwcs"]
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="the scripts/ directory of another checkout, measured alongside")
    args = parser.parse_args(argv)
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
