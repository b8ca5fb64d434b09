"""Benchmark: the match solve at survey scale, and its agreement with pinv.

Prints the time of skymatchflow.solve.skymatch.match_deltas for a 2-D tiling of N
images with about P pairs (each image overlapping its neighbours, a few
islands), and for a small system the time and the largest difference
against the reference's dense numpy.linalg.pinv solution.

    .venv/bin/python tests/benchmarks/bench_solve.py [--images 100000] [--pairs 1000000]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers
from unit.solve.test_skymatch import reference_pinv

from skymatchflow.solve.skymatch import Equation, match_deltas


def tiling_equations(n_images, n_pairs, seed=1):
    """Images on a square grid; pairs between images within a few grid steps."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_images)))
    offsets = [(dx, dy) for dx in range(-3, 4) for dy in range(0, 4) if (dy > 0 or dx > 0)]
    per_image = max(1, min(len(offsets), round(n_pairs / n_images)))
    truth = rng.normal(100, 5, n_images)
    equations = []
    for k in range(n_images):
        x, y = divmod(k, side)
        for dx, dy in offsets[:per_image]:
            j = (x + dx) * side + (y + dy)
            if 0 <= x + dx < side and 0 <= y + dy < side and j < n_images and j != k:
                i, jj = min(k, j), max(k, j)
                noise = rng.normal(0, 0.01, 2)
                equations.append(Equation(i, jj, truth[i] + noise[0], truth[jj] + noise[1],
                                          int(rng.integers(100, 50000)), int(rng.integers(100, 50000))))
    return equations


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    args = parser.parse_args()

    small = tiling_equations(400, 4000)
    t0 = time.perf_counter()
    ours, _ = match_deltas(400, small)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = reference_pinv(400, small)
    t_ref = time.perf_counter() - t0
    rel = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
    print(f"400 images, {len(small)} pairs: sparse {t_ours:.3f} s, pinv {t_ref:.3f} s "
          f"(ratio {t_ours / t_ref:.3f}); max |diff| / max |delta| = {rel:.1e}")

    t0 = time.perf_counter()
    big = tiling_equations(args.images, args.pairs)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    deltas, rank = match_deltas(args.images, big)
    t_solve = time.perf_counter() - t0
    print(f"{args.images} images, {len(big)} pairs: solve {t_solve:.1f} s (rank {rank}; "
          f"building the equations took {t_build:.1f} s); finite deltas: {np.isfinite(deltas).sum()}")
    dense_bytes = len(big) * args.images * 8
    print(f"the reference's dense K alone would need {dense_bytes / 2**40:.1f} TiB")


if __name__ == "__main__":
    main()
