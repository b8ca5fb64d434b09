"""Benchmark: the run time of each opt-in option of issue 19 against the defaults.

On a survey from bench_workflow's generator (a strip of N 256x256 images,
two rows, each overlapping its neighbours), runs the workflow cold
(``snakemake --cores 2``) once with the defaults and once per option, each
in a fresh directory, and prints wall and CPU time, the summed job CPU of
the pair stage and of the solve, and the ratios to the defaults.

    .venv/bin/python tests/benchmarks/bench_options.py [--images 2000] [--options LABEL ...] [--keep]
    .venv/bin/python tests/benchmarks/bench_options.py --solve-from SCRATCH/defaults

The issue asks for 2,000 images (README figures); a cold run then takes
5-15 minutes, so ``--options`` runs a subset (after the defaults, for the
ratios). ``--solve-from`` times the solve alone for each match option
(robust, anchor: the only stage they change) on a kept run's tables.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_workflow import STEP_CONFIG, make_survey, run_workflow


def options(paths, scratch):
    """{label: config changes}: the defaults, then each option alone and the combination."""
    from astropy.io import fits
    from astropy.wcs import WCS

    header = fits.getheader(paths[len(paths) // 2], "SCI")
    ra, dec = WCS(header).all_pix2world([[128.0, 128.0]], 0)[0]
    region = scratch / "artefact.reg"
    region.write_text(f'fk5\ncircle({ra:.8f},{dec:.8f},20")\n')
    first = Path(paths[0]).name.removesuffix(".fits")
    return {
        "defaults": {},
        "pair_statistic difference": {"pair_statistic": "difference"},
        "match_weights robust (huber)": {"match_weights": "robust"},
        "anchor (one image)": {"anchor": {first: 0.0}},
        "exclude (one region file)": {"exclude": {"regions": [str(region)]}},
        "difference + robust + exclude": {
            "pair_statistic": "difference", "match_weights": "robust", "exclude": {"regions": [str(region)]},
        },
    }


def stage_seconds(run, rule, column=2):
    """Summed wall (column 2) or CPU (column 4) seconds of one rule's jobs, from their benchmark TSVs."""
    return sum(r[column] for r in getattr(run, "jobs", []) if r[0] == rule and np.isfinite(r[column]))


def solve_stage(run_dir, repeats=3):
    """CPU seconds of solve_tables alone, per match option, on the sky and pair tables of a finished run.

    The pair records are rebuilt from pair_differences.ecsv (sides' skies and
    npix) and the footprints from sky.ecsv, so every option solves the same
    system; the stage files' reading and checking, the same for every option,
    is left out. One invocation; the best of ``repeats``.
    """
    import logging

    from astropy.table import Table

    from skymatchflow.stages.solve_sky import solve_tables

    logging.disable(logging.INFO)
    sky = Table.read(run_dir / "results" / "sky.ecsv")
    pairs = Table.read(run_dir / "results" / "pair_differences.ecsv")
    footprints = [{"image": r["image"], "file": r["file"], "sci": r["sci"], "group": r["group"],
                   "background": {"level": None, "subtracted": None}} for r in sky]
    skies = [{"image": r["image"], "sky": float(r["sky_whole_image"]), "npix": int(r["npix"])} for r in sky]
    records = [{"pair": r["pair"], "group_a": r["group_a"], "group_b": r["group_b"], "valid": bool(r["valid"]),
                "reason": r["reason"] or None,
                "a": {"sky": float(r["sky_a"]), "npix": int(r["npix_a"])},
                "b": {"sky": float(r["sky_b"]), "npix": int(r["npix_b"])}} for r in pairs]
    first = str(sky["image"][0])
    cases = {
        "defaults": {},
        "match_weights robust (huber)": {"match_weights": "robust", "robust_loss": "huber"},
        "match_weights robust (tukey)": {"match_weights": "robust", "robust_loss": "tukey"},
        "anchor (one image)": {"anchor": {first: 0.0}},
    }
    print(f"\n| solve alone ({len(sky)} images, {int(np.sum(pairs['valid']))} pairs) | CPU s | / defaults |")
    print("|---|---:|---:|")
    base = None
    for label, options in cases.items():
        best = np.inf
        for _ in range(repeats):
            t0 = time.process_time()
            solve_tables(footprints, skies, records, "match", True, False, options)
            best = min(best, time.process_time() - t0)
        base = base or best
        print(f"| {label} | {best:.2f} | {best / base:.2f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--options", nargs="*", default=None,
                        help="labels to run (the defaults always run first; default: all)")
    parser.add_argument("--solve-from", default=None, metavar="RUN_DIR",
                        help="instead: time the solve alone for each match option on a finished run's tables")
    args = parser.parse_args(argv)
    if args.solve_from:
        return solve_stage(Path(args.solve_from))
    scratch = Path(tempfile.mkdtemp(prefix="bench-options-"))
    t0 = time.perf_counter()
    paths = make_survey(scratch / "survey", args.images, seed=19)
    print(f"survey of {args.images} images written in {time.perf_counter() - t0:.0f} s ({scratch})", flush=True)
    rows = []
    for label, changes in options(paths, scratch).items():
        if args.options is not None and label != "defaults" and label not in args.options:
            continue
        workdir = scratch / label.replace(" ", "_").replace("(", "").replace(")", "")
        (workdir / "config").mkdir(parents=True)
        config = dict(STEP_CONFIG, images=[str(p) for p in paths], image_sheet=None) | changes
        (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        run = run_workflow(label.replace(" ", "_"), workdir, scratch, args.timeout)
        rows.append((label, run))
        shutil.rmtree(workdir / "results" / "images", ignore_errors=True)  # keep the disk use small
    base = rows[0][1]
    print(f"\n| option ({args.images} images) | wall s | CPU s | pair stage CPU s (sum of jobs) | solve CPU s "
          "| wall / defaults | CPU / defaults | pair CPU / defaults | solve CPU / defaults |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_pair, base_solve = stage_seconds(base, "pair_batch", 4), stage_seconds(base, "solve_sky", 4)
    for label, run in rows:
        status = "" if run.ok else " (FAILED)"
        pair, solve = stage_seconds(run, "pair_batch", 4), stage_seconds(run, "solve_sky", 4)
        print(f"| {label}{status} | {run.wall:.1f} | {run.cpu:.1f} | {pair:.1f} | {solve:.1f} | "
              f"{run.wall / base.wall:.2f} | {run.cpu / base.cpu:.2f} | {pair / base_pair:.2f} | "
              f"{solve / base_solve:.2f} |", flush=True)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
