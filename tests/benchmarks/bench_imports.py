"""Benchmark: what each job's process imports before it does any work (issue 29).

Not a test (no ``test_`` prefix; pytest does not collect it).  Run from the
repository root::

    /work/venv/bin/python tests/benchmarks/bench_imports.py            # 3 rounds
    /work/venv/bin/python tests/benchmarks/bench_imports.py --rounds 5

Every rule is a separate ``script:`` process, so each job pays for its
imports again.  For each entry script under ``scripts/`` this imports, in a
fresh ``python -X importtime`` process, the package modules the script
imports at its top, and reports the median over the rounds of the total
import time (ms), its ratio to a bare interpreter start measured in the same
rounds, and which of the heavy third-party packages were loaded.  Rounds
alternate between the scripts so that load from other sessions falls on all
of them alike.
"""

import argparse
import re
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


def entry_modules(name):
    """The package modules an entry script imports at its top."""
    text = (SCRIPTS / f"{name}.py").read_text()
    return sorted({a or b for a, b in TOP_IMPORT.findall(text)})


def import_profile(modules):
    """(total ms, {module: cumulative ms}) of importing ``modules`` in a fresh interpreter."""
    code = f"import sys; sys.path.insert(0, {str(SCRIPTS)!r})\n" + "".join(f"import {m}\n" for m in modules)
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          check=True)
    cumulative = {}
    total = 0
    for cum, indent, module in LINE.findall(done.stderr):
        cumulative[module] = int(cum) / 1000
        if len(indent) == 1:  # a top-level import of this process
            total += int(cum) / 1000
    return total, cumulative


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    jobs = {name: entry_modules(name) for name in ENTRIES if (SCRIPTS / f"{name}.py").is_file()}
    totals = {name: [] for name in ["(bare interpreter)", *jobs]}
    loaded = {}
    for _ in range(args.rounds):
        totals["(bare interpreter)"].append(import_profile([])[0])
        for name, modules in jobs.items():
            total, cumulative = import_profile(modules)
            totals[name].append(total)
            loaded[name] = [heavy for heavy in HEAVY if heavy in cumulative]
    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    bare = statistics.median(totals["(bare interpreter)"])
    print(f"## Imports per job (median of {args.rounds} rounds, load average {load})\n")
    print("| job | imports (ms) | ratio to a bare start | heavy packages loaded |")
    print("|---|---:|---:|---|")
    for name, values in totals.items():
        ms = statistics.median(values)
        print(f"| {name} | {ms:.0f} | {ms / bare:.1f} | {', '.join(loaded.get(name, [])) or '-'} |")


if __name__ == "__main__":
    main()
