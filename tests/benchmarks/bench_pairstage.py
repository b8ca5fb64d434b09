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
per pair (wall and CPU: the machine's cores are shared) and the ratio.

With ``--workdir`` (a finished run of that survey, e.g. bench_scaling.py
``--keep``), the whole pair stage instead: every pair batch's ``run_batch``
in this process with an empty store, the pairs batched by their first
group's id (as before issue 17a) and as the run's own plans (jobs/batches.py): CPU per
pair, member images loaded, and every record compared with the run's own::

    .venv/bin/python tests/benchmarks/bench_pairstage.py --workdir /tmp/x/work_2000
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

from astropy.io import fits
from astropy.wcs import WCS

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import STEP_CONFIG, make_survey

from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.geometry.overlaps import overlapping_image_pairs
from skymatchflow.io import openfiles
from skymatchflow.io.maskfile import write_mask
from skymatchflow.jobs.batches import batch_name
from skymatchflow.stats.dqflags import good_pixel_mask
from skymatchflow.stats.pairimage import PairImage
from skymatchflow.stats.pairstats import pair_record

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


def by_group_id(pair, n_batches):
    """The pair batches before issue 17a: a hash of the first group's id."""
    return batch_name(pair["group_a"], n_batches, "b")


def run_pairs(workdir):
    """(pairs with their positions, made_from, stat, image batch dirs, {pair: record}) of a finished run."""
    import json

    from astropy.table import Table

    from skymatchflow.stages.overlap_graph import pair_positions

    results = Path(workdir) / "results"
    footprints = [json.loads(p.read_text()) for p in sorted(results.glob("images/*/*.footprint.json"))]
    pairs = [{"pair": str(r["pair"]), "group_a": str(r["group_a"]), "group_b": str(r["group_b"]),
              "members_a": str(r["members_a"]).split(","), "members_b": str(r["members_b"]).split(",")}
             for r in Table.read(results / "overlaps" / "pairs.ecsv", format="ascii.ecsv")]
    positions = pair_positions(pairs, footprints)
    pairs = [p | positions[p["pair"]] for p in pairs]
    plans = [json.loads(p.read_text()) for p in sorted((results / "overlaps" / "batches").glob("*.json"))]
    made_from = {k: v for k, v in plans[0]["made_from"].items() if k != "images"} | {"images": {}}
    for plan in plans:
        made_from["images"].update(plan["made_from"]["images"])
    records = {p.stem: json.loads(p.read_text()) for p in results.glob("pairs/*/*.json")}
    image_batches = sorted(str(p) for p in (results / "images").iterdir() if p.is_dir())
    return pairs, made_from, plans[0]["stat"], image_batches, records


def touching(record):
    """An invalid pair without area or pixels on either side: footprints that only touch.

    Whether spherical_geometry returns an empty or a degenerate ring for them
    follows its set iteration order (PYTHONHASHSEED), in the reference too, so
    their reason ("no overlap", "covers no pixel", "not finite") varies from
    one process to the next.
    """
    sides = [record[side] for side in ("a", "b")]
    return not record["valid"] and all(s["area_sr"] == 0.0 and s["npix"] == 0 for s in sides)


def batch_stage(workdir, n_batches, scratch):
    """{way: (CPU s, pairs, images loaded, records differing, touching pairs whose reason differs)} of a finished run."""
    import json

    from skymatchflow.jobs.plans import batch_of_pair
    from skymatchflow.stages.pair_batch import pair_batch_spec, run_batch

    pairs, made_from, stat, image_batches, reference = run_pairs(workdir)
    planned = batch_of_pair(Path(workdir) / "results" / "overlaps" / "batches")

    def as_planned(pair, n_batches):  # the run's own pair batches (its count, jobs/batches.assign_image_batches)
        return planned[pair["pair"]]

    out = {}
    for way, choose in (("by first group's id (before)", by_group_id), ("as the run's plans (now)", as_planned)):
        batches = {}
        for pair in pairs:
            batches.setdefault(choose(pair, n_batches), []).append(pair)
        store, cpu, loaded, differing, reason_only = scratch / f"store_{choose.__name__}", 0.0, 0, 0, 0
        for batch, members in sorted(batches.items()):
            images = {m: made_from["images"][m] for p in members for m in p["members_a"] + p["members_b"]}
            made = made_from | {"images": images}
            spec = pair_batch_spec(members, made, image_batches)
            outdir = scratch / choose.__name__ / batch
            start = time.process_time()
            run_batch({"stat": stat, "made_from": made, "batch": spec}, outdir, store)
            cpu += time.process_time() - start
            loaded += len(images)
            for pair in members:
                record = json.loads((outdir / f"{pair['pair']}.json").read_text())
                ref = reference[pair["pair"]]
                if same_record(record, ref) and record["key"] == ref["key"]:
                    continue
                if touching(record) and touching(ref) and record["key"] == ref["key"]:
                    reason_only += 1
                else:
                    differing += 1
        out[way] = (cpu, len(pairs), loaded, differing, reason_only)
    return out


def main_workdir(args):
    scratch = Path(tempfile.mkdtemp(prefix="bench_pairstage_"))
    result = batch_stage(args.workdir, args.pair_batches, scratch)
    print(f"\npair stage of {args.workdir}, {args.pair_batches} pair batches, in one process, empty store\n")
    print("| pairs batched | CPU ms / pair | member images loaded | records differing | touching pairs, reason differs |")
    print("|---|---:|---:|---:|---:|")
    for way, (cpu, n, loaded, differing, reason_only) in result.items():
        print(f"| {way} | {cpu / n * 1e3:.2f} | {loaded} | {differing} of {n} | {reason_only} |")
    (before, *_), (now, *_) = result.values()
    print(f"\nCPU ratio now / before: {now / before:.3f}")
    return 1 if any(r[3] for r in result.values()) else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="survey size (default 2000)")
    parser.add_argument("--pairs", type=int, default=400, help="pairs measured (default 400; 0: all)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the default path")
    parser.add_argument("--workdir", type=Path, help="a finished run of the survey: measure its whole pair stage")
    parser.add_argument("--pair-batches", type=int, default=4, help="with --workdir: the batch count (default 4)")
    args = parser.parse_args(argv)
    if args.workdir:
        return main_workdir(args)
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
