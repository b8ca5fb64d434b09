"""Benchmark: the run time of each opt-in option of issue 19 against the defaults.

On a survey from bench_workflow's generator (a strip of N 256x256 images,
two rows, each overlapping its neighbours), runs the workflow cold
(``snakemake --cores 2``) once with the defaults and once per option, each
in a fresh directory, and prints wall time, the summed job time of the pair
stage and of the solve, and the ratio to the defaults.

    .venv/bin/python tests/benchmarks/bench_options.py [--images 300] [--timeout 1800]

The issue asks for 2,000 images; the machine is shared, so the default is
smaller (200). Pair-stage and solve times grow linearly with the number of pairs
(a strip: ~2.5 pairs per image), so the ratios carry over.
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
from bench_workflow import STEP_CONFIG, make_survey, run_workflow  # noqa: E402


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


def stage_seconds(run, rule):
    return sum(r[2] for r in getattr(run, "jobs", []) if r[0] == rule and np.isfinite(r[2]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-options-"))
    t0 = time.perf_counter()
    paths = make_survey(scratch / "survey", args.images, seed=19)
    print(f"survey of {args.images} images written in {time.perf_counter() - t0:.0f} s ({scratch})", flush=True)
    rows = []
    for label, changes in options(paths, scratch).items():
        workdir = scratch / label.replace(" ", "_").replace("(", "").replace(")", "")
        (workdir / "config").mkdir(parents=True)
        config = dict(STEP_CONFIG, images=[str(p) for p in paths], image_sheet=None) | changes
        (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        run = run_workflow(label.replace(" ", "_"), workdir, scratch, args.timeout)
        rows.append((label, run))
        shutil.rmtree(workdir / "results" / "images", ignore_errors=True)  # keep the disk use small
    base = rows[0][1]
    print(f"\n| option ({args.images} images) | wall s | CPU s | pair stage s (sum of jobs) | solve s "
          "| wall / defaults | CPU / defaults |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, run in rows:
        status = "" if run.ok else " (FAILED)"
        print(f"| {label}{status} | {run.wall:.1f} | {run.cpu:.1f} | {stage_seconds(run, 'pair_batch'):.1f} | "
              f"{stage_seconds(run, 'solve_sky'):.1f} | {run.wall / base.wall:.2f} | {run.cpu / base.cpu:.2f} |")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
