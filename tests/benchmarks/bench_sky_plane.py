"""Benchmark: ``sky_model: plane`` against the issue 27 targets, ratios from one run.

Not a test. Run from the repository root::

    /work/venv/bin/python tests/benchmarks/bench_sky_plane.py [--scale 1.0] [--seed 19] [--cost-grid 6 5]

Every figure comes from the workflow's own stage code run in process
(helpers.in_process: image batch, overlap graph, pair records, solve), the
plane through ``sky_model: plane`` (with ``skymethod: match``,
``pair_statistic: difference``):

1. ramps: the ``clean`` scene with a ramp of 1 sigma across every tile in
   a direction of its own (measure_ramp_plane.add_ramps); truth error of
   the plane against the reference engine (defaults, skymethod match) with
   its best statistic of mode/median/mean, the one plane common to all
   tiles (which no overlap measures) removed. Target: ratio <= 0.2.
2. M17 (8 2MASS tiles): RMS over overlapping pairs (> 1,000 common pixels)
   of the median of A - B after the two solved planes, both evaluated at
   every difference's sky position (one common frame), against Montage's
   0.054 DN. Target: <= 0.054.
3. clean: the ``clean`` scene without ramps; truth error (mean removed) of
   the plane against the constants of ``pair_statistic: difference``.
   Target: ratio <= 1 (within the scatter of one seed).
4. cost: the pair records alone (the stage the option changes) on a grid
   of ``--cost-grid`` tiles at ``--scale``, plane against ``pair_statistic:
   difference``, each timed over the same pairs in one process. Target:
   ratio <= 1.5.
"""

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests"), str(Path(__file__).resolve().parent)]
from measure_ramp_plane import add_ramps

from helpers.config import schema_defaults
from helpers.in_process import run_in_process
from helpers.scenes import make_scene
from skymatchflow.solve.plane_model import plane_at, tangent_offsets

PLANE = {"skymethod": "match", "pair_statistic": "difference", "sky_model": "plane"}
M17 = REPO.parent / "shared" / "data" / "m17_2mass"


def sky_maps(sky, paths):
    """{file: (solved sky per pixel, ra, dec)} from a sky table (a plane's columns, or the constant delta_match)."""
    from astropy.io import fits
    from astropy.wcs import WCS

    maps = {}
    for row in sky:
        path = row["file"]
        with fits.open(path) as hdul:
            shape, wcs = hdul["SCI"].data.shape, WCS(hdul["SCI"].header)
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
        ra, dec = wcs.all_pix2world(xx.ravel().astype(float), yy.ravel().astype(float), 0)
        solved = plane_at(row, ra, dec) if "plane_tilt_x" in sky.colnames else np.full(ra.size, row["delta_match"])
        maps[path] = (np.asarray(solved, float).reshape(shape), ra, dec)
    return maps


def truth_error(sky, paths, injected, noise, common_plane):
    """RMS of solved - injected sky over every pixel, in noise units; the mean (or best common plane) removed."""
    maps = sky_maps(sky, paths)
    error = np.concatenate([(maps[p][0] - i).ravel() for p, i in zip(paths, injected)])
    if not common_plane:
        return float(np.sqrt(np.mean((error - error.mean()) ** 2)) / noise)
    ra = np.concatenate([maps[p][1] for p in paths])
    dec = np.concatenate([maps[p][2] for p in paths])
    x, y = tangent_offsets(ra, dec, float(np.mean(ra)), float(np.mean(dec)))
    phi = np.stack([np.ones_like(x), x, y], axis=1)
    residual = error - phi @ np.linalg.lstsq(phi, error, rcond=None)[0]
    return float(np.sqrt(np.mean(residual**2)) / noise)


def ramps(scale, seed, workdir):
    paths, truth = make_scene(workdir / "scene", "clean", scale=scale, seed=seed)
    noise = truth.meta["noise"]
    injected = [s + r for s, r in zip(truth["sky"], add_ramps(paths, noise, seed))]
    plane, _ = run_in_process(schema_defaults() | {"images": paths} | PLANE, workdir / "plane")
    ours = truth_error(plane, paths, injected, noise, True)
    reference = {}
    for skystat in ("mode", "median", "mean"):
        sky, _ = run_in_process(schema_defaults() | {"images": paths, "skymethod": "match", "skystat": skystat},
                                workdir / skystat)
        reference[skystat] = truth_error(sky, paths, injected, noise, True)
    best = min(reference, key=reference.get)
    print(f"ramps (scale {scale}, seed {seed}): plane {ours:.3f} sigma; reference "
          + ", ".join(f"{k} {v:.3f}" for k, v in reference.items())
          + f"; plane / best reference ({best}) = {ours / reference[best]:.3f} (target <= 0.2)", flush=True)


def clean(scale, seed, workdir):
    paths, truth = make_scene(workdir / "scene", "clean", scale=scale, seed=seed)
    noise, injected = truth.meta["noise"], [np.full(1, s) for s in truth["sky"]]
    errors = {}
    for name, options in (("plane", PLANE), ("constant", PLANE | {"sky_model": "constant"})):
        sky, _ = run_in_process(schema_defaults() | {"images": paths} | options, workdir / name)
        errors[name] = truth_error(sky, paths, injected, noise, False)
    print(f"clean (scale {scale}, seed {seed}): plane {errors['plane']:.4f} sigma, constant (difference) "
          f"{errors['constant']:.4f}; ratio {errors['plane'] / errors['constant']:.3f} (target <= 1)", flush=True)


def m17(workdir):
    from measure_m17_plane import load_pair_images

    from skymatchflow.stats._pairdifference import located_difference

    paths = sorted(str(p) for p in M17.glob("*.fits.gz"))
    sky, _ = run_in_process(schema_defaults() | {"images": paths, "dqbits": None} | PLANE, workdir / "plane")
    rows = {row["file"]: row for row in sky}
    images = load_pair_images(paths, workdir / "pixels", dqbits=None)
    files = {name: image.file for name, image in images.items()}
    names = list(images)
    before, after = [], []
    for k, a in enumerate(names):
        for b in names[k + 1 :]:
            diff, _, _, located = located_difference(images[a], images[b], {"lower": None, "upper": None})
            if diff is None or diff.size <= 1000:
                continue
            ra, dec = images[a].wcs.all_pix2world(located[1].astype(float), located[0].astype(float), 0)
            planes = plane_at(rows[files[a]], ra, dec) - plane_at(rows[files[b]], ra, dec)
            before.append(np.median(diff))
            after.append(np.median(diff - planes))
    rms = float(np.sqrt(np.mean(np.square(after))))
    print(f"M17: {len(after)} overlapping pairs; RMS of the overlap medians {np.sqrt(np.mean(np.square(before))):.3f} "
          f"DN before, {rms:.4f} DN after the planes; / Montage's 0.054 = {rms / 0.054:.3f} (target <= 1)", flush=True)


def cost(scale, grid, workdir):
    from skymatchflow.geometry.footprint import polygon_from_dict
    from skymatchflow.io.inputs import discover_images
    from skymatchflow.io.stagefiles import read_json
    from skymatchflow.jobs.config import pair_options, stat_kwargs
    from skymatchflow.products.images import product_path
    from skymatchflow.products.ruleparams import image_batch_params
    from skymatchflow.stages.image_batch import run_image_batch
    from skymatchflow.stages.overlap_graph import build_graph
    from skymatchflow.stats.pairimage import load_pair_image
    from skymatchflow.stats.pairstats import pair_record

    paths, _ = make_scene(workdir / "scene", "clean", scale=scale, n_cols=grid[0], n_rows=grid[1])
    config = schema_defaults() | {"images": paths} | PLANE
    specs = discover_images(config)
    images_dir = workdir / "images"
    run_image_batch(image_batch_params(specs, config), images_dir, store=workdir / "store")
    footprints = [read_json(product_path(images_dir, image, "footprint")) for image in specs]
    images = {
        image: load_pair_image(image, spec.file, spec.sci, polygon_from_dict(record["polygon"]),
                               product_path(images_dir, image, "mask"), record["wcs"])
        for (image, spec), record in zip(specs.items(), footprints)
    }
    pairs, _ = build_graph(footprints, [images[r["image"]].polygon for r in footprints])
    seconds = {}
    for name, options in (("difference", {"sky_model": "constant"}), ("plane", {}), ("difference again", {"sky_model": "constant"})):
        stat = stat_kwargs(config) | pair_options(config | options)
        start = time.perf_counter()
        for p in pairs:
            pair_record(p["group_a"], [images[m] for m in p["members_a"]], p["group_b"],
                        [images[m] for m in p["members_b"]], stat)
        seconds[name] = time.perf_counter() - start
    difference = min(seconds["difference"], seconds["difference again"])
    print(f"cost ({grid[0]} x {grid[1]} = {len(specs)} images, {len(pairs)} pairs, scale {scale}): pair records "
          f"difference {difference:.2f} s, plane {seconds['plane']:.2f} s; ratio {seconds['plane'] / difference:.3f} "
          "(target <= 1.5)", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--cost-grid", type=int, nargs=2, default=[6, 5])
    parser.add_argument("--only", nargs="*", default=["ramps", "m17", "clean", "cost"])
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    workdir = Path(tempfile.mkdtemp(prefix="bench-plane-"))
    if "ramps" in args.only:
        ramps(args.scale, args.seed, workdir / "ramps")
    if "m17" in args.only:
        m17(workdir / "m17")
    if "clean" in args.only:
        clean(args.scale, args.seed, workdir / "clean")
    if "cost" in args.only:
        cost(args.scale, args.cost_grid, workdir / "cost")


if __name__ == "__main__":
    main()
