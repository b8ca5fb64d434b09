"""Cost of a Snakemake start as the number of inputs grows.

Every cluster job re-runs Snakemake inside the job (and again for the job
step), so the Snakefile's top-level code (config validation, input discovery)
is paid once per job, not once per run. This script writes N tiny FITS inputs
(16x16 SCI + DQ with a celestial WCS), then times, in fresh processes:

- parse: `snakemake --list-rules` (the Snakefile and its top-level code only);
- dry run: `snakemake -n` (parse, plus the DAG of the image stage).

Usage: python tests/benchmarks/bench_parse.py [N ...]   (default 2000 10000)
Prints one table: seconds, and milliseconds per input (the slope).
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from astropy.io import fits
from astropy.wcs import WCS

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
REPEATS = 2  # the best of two: the machine is shared


def write_inputs(directory, n):
    directory.mkdir(parents=True, exist_ok=True)
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cdelt = [-1e-4, 1e-4]
    wcs.wcs.crpix = [8.5, 8.5]
    sci = np.ones((16, 16), np.float32)
    dq = np.zeros((16, 16), np.uint32)
    paths = []
    for k in range(n):
        wcs.wcs.crval = [10.0 + 0.001 * k, 0.0]
        path = directory / f"img_{k:05d}_cal.fits"
        fits.HDUList([
            fits.PrimaryHDU(),
            fits.ImageHDU(sci, header=wcs.to_header(), name="SCI"),
            fits.ImageHDU(dq, name="DQ"),
        ]).writeto(path, overwrite=True)
        paths.append(str(path))
    return paths


def timed(workdir, *args):
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = subprocess.run(
            ["timeout", "-s", "KILL", "1200", sys.executable, "-m", "snakemake",
             "--snakefile", str(SNAKEFILE), "--directory", str(workdir), "--cores", "1", *args],
            cwd=workdir, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if result.returncode != 0:
            sys.exit(f"snakemake {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        best = min(best, elapsed)
    return best


def main(argv):
    sizes = [int(a) for a in argv] or [2000, 10000]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_parse_") as scratch:
        for n in sizes:
            workdir = Path(scratch) / f"n{n}"
            t0 = time.perf_counter()
            paths = write_inputs(workdir / "data", n)
            made = time.perf_counter() - t0
            (workdir / "config").mkdir()
            config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
            config.update(images=paths, image_sheet=None)
            (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
            parse = timed(workdir, "--list-rules")
            dry = timed(workdir, "-n")
            rows.append((n, parse, dry))
            print(f"done: N={n} (inputs written in {made:.1f} s)", flush=True)
    empty = timed_empty()
    print()
    print("| inputs | parse (--list-rules) | dry run (-n) | parse per input |")
    print("|---:|---:|---:|---:|")
    print(f"| 0 (`snakemake --version`) | {empty:.2f} s | | |")
    for n, parse, dry in rows:
        print(f"| {n:,} | {parse:.2f} s | {dry:.2f} s | {1000 * (parse - empty) / n:.2f} ms |")


def timed_empty():
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--version"], capture_output=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main(sys.argv[1:])
