"""Benchmark: overlap discovery (skymatchflow.geometry.overlaps) vs the reference's all-pairs loop.

Not a test (no ``test_`` prefix).  Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_overlaps.py [--exact-full] [--sizes 1000 10000]

Layout: a survey-like strip of 2048x2048 footprints (0.06"/px, ~2.05') along
the equator across RA 0/360, two rows of pointings spaced 1.85' (slight
overlap between neighbouring pointings), 4 dithers per pointing with random
offsets of up to 12" and random roll of up to 1 deg.  Each footprint is
built like the workflow does it (astropy TAN WCS -> footprint_polygon).

Timed per size N:
  * caps + candidate_pairs (KD-tree),
  * classify_candidates (vectorised DISJOINT / OVERLAP / AMBIGUOUS),
  * overlapping_image_pairs(exact=False): the discovery with reference
    intersections only for AMBIGUOUS pairs,
  * overlapping_image_pairs(exact=True): every non-DISJOINT candidate through
    spherical_geometry; measured on a sample of candidates and extrapolated
    (with --exact-full it is run in full for N <= 1000),
  * brute force (the reference's loop: both directions of every pair) on
    the first BRUTE_N footprints, extrapolated to N with the pair count; the
    discovered pairs on that subset are checked against it.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from astropy.wcs import WCS

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers
from skymatchflow.geometry._classify import AMBIGUOUS, DISJOINT, OVERLAP, classify_candidates
from skymatchflow.geometry.candidates import bounding_caps, candidate_pairs
from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.geometry.intersection import intersection_areas
from skymatchflow.geometry.overlaps import overlapping_image_pairs

SHAPE = (2048, 2048)
SCALE = 0.06 / 3600.0
STEP = 1.85 / 60.0
BRUTE_N = 80
EXACT_SAMPLE = 150


def strip_footprints(n, seed=2024):
    rng = np.random.default_rng(seed)
    n_point = (n + 3) // 4
    polygons = []
    ny, nx = SHAPE
    for p in range(n_point):
        col, row = divmod(p, 2)
        ra0 = (-0.5 * (n_point // 2) * STEP + col * STEP) % 360.0
        dec0 = (row - 0.5) * STEP
        for _ in range(4):
            if len(polygons) == n:
                break
            theta = np.deg2rad(rng.uniform(-1.0, 1.0))
            wcs = WCS(naxis=2)
            wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
            wcs.wcs.crval = [(ra0 + rng.uniform(-12, 12) / 3600.0) % 360.0, dec0 + rng.uniform(-12, 12) / 3600.0]
            wcs.wcs.crpix = [nx / 2 + 0.5, ny / 2 + 0.5]
            wcs.wcs.cd = SCALE * np.array([[-np.cos(theta), np.sin(theta)], [np.sin(theta), np.cos(theta)]])
            polygons.append(footprint_polygon(SHAPE, wcs)[0])
    return polygons


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def brute(polygons):
    out = []
    for i in range(len(polygons)):
        for j in range(i + 1, len(polygons)):
            a_ij, a_ji = intersection_areas(polygons[i], polygons[j])
            if a_ij > 0 or a_ji > 0:
                out.append((i, j, a_ij, a_ji))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--exact-full", action="store_true", help="run exact=True in full for N <= 1000")
    args = parser.parse_args()

    t_build, all_polys = timed(strip_footprints, max(args.sizes))
    print(f"built {len(all_polys)} footprints in {t_build:.1f} s "
          f"({1e3 * t_build / len(all_polys):.2f} ms each, not part of the discovery)")

    # brute force on a subset (the reference's all-pairs loop)
    sub = all_polys[:BRUTE_N]
    t_brute, ref = timed(brute, sub)
    brute_pairs = BRUTE_N * (BRUTE_N - 1) // 2
    fast_sub = overlapping_image_pairs(sub, exact=False)
    exact_sub = overlapping_image_pairs(sub, exact=True)
    same = [p[:2] for p in fast_sub] == [p[:2] for p in ref] == [p[:2] for p in exact_sub]
    rel = max((abs(f[2] - r[2]) / r[2] for f, r in zip(fast_sub, ref) if r[2] > 0), default=0.0)
    print(f"brute force on first {BRUTE_N}: {brute_pairs} pairs, {len(ref)} overlapping, {t_brute:.1f} s; "
          f"discovered pairs identical (fast and exact): {same}; max rel. area diff fast vs reference {rel:.1e}")

    rows = []
    for n in args.sizes:
        polys = all_polys[:n]
        t_caps, caps = timed(bounding_caps, polys)
        t_cand, cands = timed(candidate_pairs, polys, caps)
        t_cls, (codes, _) = timed(classify_candidates, polys, cands, caps)
        t_fast, found = timed(overlapping_image_pairs, polys, exact=False)
        t_defer, deferred = timed(overlapping_image_pairs, polys, exact=False, defer_ambiguous=True)
        assert {p[:2] for p in found} <= {p[:2] for p in deferred}
        counts = np.bincount(codes, minlength=3)
        non_disjoint = np.nonzero(codes != DISJOINT)[0]
        if args.exact_full and n <= 1000:
            t_exact, exact = timed(overlapping_image_pairs, polys, exact=True)
            assert [p[:2] for p in exact] == [p[:2] for p in found]
            exact_note = "measured"
        else:
            rng = np.random.default_rng(0)
            sample = rng.choice(non_disjoint, size=min(EXACT_SAMPLE, non_disjoint.size), replace=False)
            t0 = time.perf_counter()
            for k in sample:
                i, j = cands[k]
                intersection_areas(polys[i], polys[j])
            per = (time.perf_counter() - t0) / max(1, sample.size)
            t_exact = t_caps + t_cand + t_cls + per * non_disjoint.size
            exact_note = f"extrapolated ({per * 1e3:.0f} ms/pair on {sample.size})"
        t_brute_n = t_brute * (n * (n - 1) / 2) / brute_pairs
        rows.append((n, n * (n - 1) // 2, len(cands), counts, len(found), t_caps + t_cand, t_cls, t_defer, t_fast,
                     t_exact, exact_note, t_brute_n))

    print()
    print(f"{'N':>6} {'all pairs':>10} {'candidates':>10} {'DISJ/OVER/AMBIG':>18} {'overlapping':>11} "
          f"{'caps+KD [s]':>11} {'classify [s]':>12} {'workflow [s]':>12} {'fast [s]':>9} {'exact [s]':>10} "
          f"{'brute [s]':>10}")
    for n, allp, nc, counts, nf, tk, tc, td, tf, te, _note, tb in rows:
        cstr = f"{counts[DISJOINT]}/{counts[OVERLAP]}/{counts[AMBIGUOUS]}"
        print(f"{n:>6} {allp:>10} {nc:>10} {cstr:>18} {nf:>11} {tk:>11.2f} {tc:>12.2f} {td:>12.2f} {tf:>9.2f} "
              f"{te:>10.0f} {tb:>10.0f}")
    print()
    print("workflow = overlapping_image_pairs(exact=False, defer_ambiguous=True), what the overlap_graph "
          "rule runs (AMBIGUOUS pairs go to the pair stage)")
    print("fast  = overlapping_image_pairs(exact=False) end to end (caps, KD-tree, classification, "
          "reference intersections of AMBIGUOUS pairs)")
    print("exact = overlapping_image_pairs(exact=True): " + "; ".join(f"N={r[0]}: {r[10]}" for r in rows))
    print(f"brute = reference all-pairs loop, extrapolated from {BRUTE_N} footprints by pair count")


if __name__ == "__main__":
    main()
