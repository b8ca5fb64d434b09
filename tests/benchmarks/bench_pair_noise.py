"""Benchmark: what each pair's noise (issue 27's verdict) adds to a member's overlap statistic.

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_pair_noise.py

For overlaps of several sizes, times the sky statistic of the overlap's
pixels (what the pair stage did before) and the same plus
``statistic_noise`` (a median and a median absolute deviation), in one
process, best of 5, and prints the ratio as a Markdown table. Reading the
window and the geometry, the rest of a pair's cost, are not included, so
the ratio is an upper bound on the pair stage's.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from skymatchflow.stats._statnoise import statistic_noise
from skymatchflow.stats.imagestats import sky_statistic


def best(function, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    rng = np.random.default_rng(27)
    print("| pixels | skystat | statistic (ms) | + noise (ms) | ratio |")
    print("|---|---|---|---|---|")
    for npix in (5_000, 50_000, 500_000):
        data = rng.normal(10.0, 1.0, npix).astype(np.float32)
        for skystat in ("mode", "median"):
            alone = best(lambda: sky_statistic(data, skystat=skystat))
            both = best(lambda: statistic_noise(data, sky_statistic(data, skystat=skystat).npix, skystat))
            print(f"| {npix:,} | {skystat} | {alone * 1e3:.2f} | {both * 1e3:.2f} | {both / alone:.2f} |")


if __name__ == "__main__":
    main()
