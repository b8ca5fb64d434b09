"""Benchmark: the pair statistics of a survey, reference-exact path against the default one (issue 17).

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_pairstage.py --n 2000 --pairs 400

On the survey strip of bench_workflow.py (N images of 256x256), the overlap
graph's image pairs are measured twice in one process on the same machine:
``pair_record(..., exact=True)`` (every intersection by spherical_geometry,
twice per pair, as the reference computes them; each window read by opening
the files) and the default ``pair_record`` (exactintersect: each
intersection once per pair, far nodes decided in float64; files held open
across the batch). Every record is compared: the same pixels (npix) and
statistics, areas within 1e-13 sr (their round-off). Prints one Markdown table of time
per pair (wall and CPU: the machine's cores are shared) and the ratio,.
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import STEP_CONFIG, make_survey  # noqa: E402  (puts scripts/ on sys.path)
from skymatchflow.io import openfiles  # noqa: E402
from skymatchflow.stats.dqflags import good_pixel_mask  # noqa: E402
from skymatchflow.geometry.footprint import footprint_polygon  # noqa: E402
from skymatchflow.io.maskfile import write_mask  # noqa: E402
from skymatchflow.geometry.overlaps import overlapping_image_pairs  # noqa: E402
from skymatchflow.stats.pairstats import PairImage, pair_record  # noqa: E402

AREA_TOL = 1e-13  # sr (areas of ~1e-7 sr; 64 float spacings of 2 pi is 5.7e-14)
STAT = {key: STEP_CONFIG[key] for key in ("skystat", "lower", "upper", "nclip", "lsigma", "usigma", "binwidth")}


def pair_images(paths, scratch):
    """PairImages with their mask stage files, as the image batches make them."""
    images = []
    for k, path in enumerate(paths):
        with fits.open(path) as hdul:
            sci, dq = hdul["SCI"].data, hdul["DQ"].data
            wcs = WCS(hdul["SCI"].header)
        mask_path = scratch / f"mask_{k:05d}.fits"
        write_mask(mask_path, good_pixel_mask(sci, dq, 0), str(k), {})
        polygon, _, _ = footprint_polygon(sci.shape, wcs, None)
        images.append(PairImage(str(k), str(path), ("SCI", 1), sci.shape, wcs, polygon, str(mask_path)))
    return images


def timed(function, items):
    wall, cpu = time.perf_counter(), time.process_time()
    out = [function(item) for item in items]
    return out, time.perf_counter() - wall, time.process_time() - cpu


def same_record(a, b):
    """Equal but for the areas, which agree to AREA_TOL.

    Girard areas of overlaps this small carry ~1e-15 sr of round-off: the
    reference's own a∩b and b∩a areas differ by that much.
    """
    for side in ("a", "b"):
        sa, sb = a[side], b[side]
        if not math.isclose(sa["area_sr"], sb["area_sr"], rel_tol=0, abs_tol=AREA_TOL):
            return False
        for ma, mb in zip(sa["members"], sb["members"]):
            if not math.isclose(ma["area_sr"], mb["area_sr"], rel_tol=0, abs_tol=AREA_TOL):
                return False
            if {k: v for k, v in ma.items() if k != "area_sr"} != {k: v for k, v in mb.items() if k != "area_sr"}:
                return False
        if (sa["sky"], sa["npix"]) != (sb["sky"], sb["npix"]):
            return False
    return (a["valid"], a["reason"]) == (b["valid"], b["reason"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="survey size (default 2000)")
    parser.add_argument("--pairs", type=int, default=400, help="pairs measured (default 400; 0: all)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the default path")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench_pairstage_"))
    paths = make_survey(scratch / "data", args.n, seed=12)
    images = pair_images(paths, scratch)
    pairs = [(i, j) for i, j, *_ in overlapping_image_pairs([im.polygon for im in images], exact=False)]
    if args.pairs:
        pairs = pairs[:: max(1, len(pairs) // args.pairs)][: args.pairs]

    def exact(pair):
        i, j = pair
        return pair_record(str(i), [images[i]], str(j), [images[j]], STAT, exact=True)


    def default(pair):
        i, j = pair
        record = pair_record(str(i), [images[i]], str(j), [images[j]], STAT)
        return record

    ref, ref_wall, ref_cpu = timed(exact, pairs)
    with openfiles.held_files_closed():
        new, new_wall, new_cpu = timed(default, pairs)
    mismatches = sum(not same_record(a, b) for a, b in zip(ref, new))
    n = len(pairs)
    print(f"\nN = {args.n} images of 256x256, {n} image pairs measured; scratch {scratch}\n")
    print("| path | wall ms / pair | CPU ms / pair | ratio (CPU) |")
    print("|---|---:|---:|---:|")
    print(f"| reference-exact (pair_record exact=True) | {ref_wall / n * 1e3:.2f} | {ref_cpu / n * 1e3:.2f} | 1 |")
    print(f"| default (exactintersect, files held open) | {new_wall / n * 1e3:.2f} | {new_cpu / n * 1e3:.2f} "
          f"| {new_cpu / ref_cpu:.3f} |")
    print(f"\nrecords differing (pixels, statistics, or areas beyond 1e-13 sr): {mismatches} of {n}")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        with openfiles.held_files_closed():
            profiler.runcall(lambda: [default(p) for p in pairs])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
