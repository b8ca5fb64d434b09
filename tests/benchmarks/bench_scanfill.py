"""Benchmark: gwcs.region.Polygon.scan vs skymatchflow.geometry.scanfill.scan_fill.

Not a test (no ``test_`` prefix).  Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_scanfill.py

Times, on a 2048x2048 image, the fill of a rotated quadrilateral overlap
covering ~10% and ~100% of the image, for
  * gwcs:   Polygon(True, list(zip(x, y))).scan(zeros)  (what stcal calls),
  * scan_fill on the full image,
  * fill_bounding_window + scan_fill(window=...)  (read-only-the-overlap use),
checks the masks are identical and prints best-of-N times and speed-ups.
"""

import sys
import time
from pathlib import Path

import numpy as np
from gwcs.region import Polygon

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers
from skymatchflow.geometry.scanfill import fill_bounding_window, scan_fill

NY = NX = 2048


def quad(frac, angle_deg=7.0):
    """Closed rotated square quadrilateral of area ~frac * NY * NX, centred."""
    side = np.sqrt(frac * NY * NX)
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    u = np.array([-1, 1, 1, -1, -1]) * side / 2
    v = np.array([-1, -1, 1, 1, -1]) * side / 2
    # a slight shear so no edge is exactly symmetric
    x = (NX - 1) / 2 + c * u - s * v + 0.03 * v
    y = (NY - 1) / 2 + s * u + c * v
    return x, y


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return min(times), res


def main():
    print(f"image {NY}x{NX}; best of N runs")
    print(f"{'case':>8} {'fill%':>6} {'gwcs [ms]':>10} {'scan_fill [ms]':>15} {'ratio':>7}"
          f" {'window [ms]':>12} {'ratio':>7}  identical")
    for label, frac, angle in (("~10%", 0.10, 7.0), ("~100%", 1.0, 0.0)):
        if frac >= 1.0:
            # the whole image as seen through a slightly off inverse WCS
            x = np.array([-0.7, NX - 0.4, NX - 0.3, -0.45, -0.7])
            y = np.array([-0.6, -0.3, NY - 0.45, NY - 0.35, -0.6])
        else:
            x, y = quad(frac, angle)
        verts = list(zip(x, y, strict=True))

        t_ref, ref = best(lambda v=verts: Polygon(True, v).scan(np.zeros((NY, NX), bool)), 5)
        t_full, got = best(lambda: scan_fill(x, y, (NY, NX)), 20)

        def windowed():
            win = fill_bounding_window(x, y, (NY, NX))
            return win, scan_fill(x, y, (NY, NX), window=win)

        t_win, (win, wgot) = best(windowed, 20)
        r0, r1, c0, c1 = win
        same = (np.array_equal(ref, got) and np.array_equal(ref[r0:r1, c0:c1], wgot)
                and not ref.sum() - wgot.sum())
        print(f"{label:>8} {100 * ref.mean():6.1f} {1e3 * t_ref:10.2f} {1e3 * t_full:15.2f}"
              f" {t_ref / t_full:7.1f} {1e3 * t_win:12.2f} {t_ref / t_win:7.1f}  {same}")
        if not same:
            raise SystemExit("MISMATCH")


if __name__ == "__main__":
    main()
