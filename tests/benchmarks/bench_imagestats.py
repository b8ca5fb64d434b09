"""Benchmark: skymatchflow.stats.imagestats.sky_statistic vs stsci.imagestats.ImageStats.

Run:  .venv/bin/python tests/benchmarks/bench_imagestats.py [--repeats N]

This is a script, not a test.  It times both implementations in the same run
(best of N repeats) on realistic float32 sky images of 4 Mpx (2048x2048) and
0.5 Mpx (724x724): normal noise, plus 3% of "stars" (exponential excess),
plus a few saturated pixels.  It uses the SkyStats defaults (nclip=5,
lsig=usig=4, binwidth=0.1) and reports, for each statistic, the times, the
speed-up and whether the results agree.  Our peak extra memory is measured
with tracemalloc (numpy allocations are traced) and given relative to the
input size.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers

from stsci.imagestats import ImageStats

from skymatchflow.stats.imagestats import sky_statistic

STATS = ("mode", "mean", "median", "midpt")


def make_sky(shape, seed=0, sky=1.25, sigma=0.05, star_frac=0.03):
    rng = np.random.default_rng(seed)
    x = rng.normal(sky, sigma, shape).astype(np.float32)
    stars = rng.random(shape) < star_frac
    x[stars] += rng.exponential(20 * sigma, int(stars.sum())).astype(np.float32)
    sat = rng.random(shape) < 1e-4
    x[sat] = np.float32(5e3)
    return x


def ref_stat(x, stat):
    with contextlib.redirect_stdout(io.StringIO()):
        s = ImageStats(x, fields="npix," + stat, nclip=5, lsig=4.0, usig=4.0, binwidth=0.1)
    return getattr(s, stat), s.npix


def best_time(fn, repeats):
    best = float("inf")
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mem(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    print(f"numpy {np.__version__}; best of {args.repeats} repeats; times in ms")
    hdr = f"{'image':>10} {'stat':>7} {'ImageStats':>11} {'ours':>8} {'speed-up':>9} {'peak mem':>9}  agree"
    print(hdr)
    print("-" * len(hdr))
    for shape in ((2048, 2048), (724, 724)):
        x = make_sky(shape)
        label = f"{shape[0]}x{shape[1]}"
        for stat in STATS:
            t_ref, (v_ref, n_ref) = best_time(lambda: ref_stat(x, stat), args.repeats)
            t_us, r = best_time(lambda: sky_statistic(x, stat), args.repeats)
            mem = peak_mem(lambda: sky_statistic(x, stat)) / x.nbytes
            tol = 1e-6 * max(1.0, abs(float(v_ref)))
            agree = r.npix == n_ref and r.value is not None and abs(r.value - float(v_ref)) <= tol
            print(
                f"{label:>10} {stat:>7} {t_ref * 1e3:11.1f} {t_us * 1e3:8.1f} "
                f"{t_ref / t_us:8.2f}x {mem:8.2f}x  {'yes' if agree else 'NO'}"
                f"{'' if agree else f' ({r.value}, {r.npix}) vs ({v_ref}, {n_ref})'}"
            )
    print("peak mem = tracemalloc peak of one sky_statistic call / input nbytes")


if __name__ == "__main__":
    main()
