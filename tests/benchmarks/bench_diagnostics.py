"""Benchmark: the diagnostics stage at survey scale, from synthetic stage files.

Writes the stage files the diagnostics read for N images (no workflow run):
footprints (outline and polygon as the per-image stage writes them), 48x48
previews with a TAN WCS, the sky table and the pair table of a square tiling
(each image overlapping its right, upper and diagonal neighbours, four
islands, a few SKIPPED images and pairs without a value), then times
``make_diagnostics`` (reading included) and each figure, as the job's log
shows them. The tiling sits across RA 0/360 to exercise the wrap.

    .venv/bin/python tests/benchmarks/bench_diagnostics.py [--images 10000] [--workdir DIR]
    .venv/bin/python tests/benchmarks/bench_diagnostics.py --images 400 --graph-ratio

``--graph-ratio`` then draws the overlap graph again, in the same process,
with every edge coloured (as before graph.COLOURED_EDGES) and prints the
time of today's graph against it.

``--workflow-sides 4 8`` instead runs the whole workflow (``snakemake --cores
2``, cold, fresh directory) on bench_workflow's mosaic scenes of K x K images
of 2048x2048, with this tree and with a baseline commit (``--baseline``,
default: where this branch left main; exported with ``git archive``, the
repository is not touched), alternately in one invocation, and prints for
each the wall, the tail (the solve's end to the run's end, from Snakemake's
log) and the ratios this tree / baseline; then a re-run of each after a solve
option changed (``match_down: false``), and which diagnostics jobs and
figures that re-run made::

    .venv/bin/python tests/benchmarks/bench_diagnostics.py --workflow-sides 4 8
"""

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers

from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from helpers.stagefiles import write_json
from skymatchflow.diagnostics.stage import FIGURES, make_diagnostics
from skymatchflow.geometry.footprint import footprint_polygon, polygon_to_dict
from skymatchflow.stages.preview import PREVIEW_SIZE

DETECTOR = 2048  # pixels
SCALE = 0.11 / 3600  # deg per pixel
STEP = 0.9 * DETECTOR * SCALE  # 10 % overlap between neighbours


def image_wcs(ra, dec, size, scale):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra % 360.0, dec]
    wcs.wcs.crpix = [size / 2 + 0.5, size / 2 + 0.5]
    wcs.wcs.cdelt = [-scale, scale]
    return wcs


def synthesise(outdir, n_images, seed=1):
    """Write the stage files; return (sky path, pairs path, footprint paths, {image: preview path})."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_images)))
    half = side // 2
    footprints, previews, rows, positions = [], {}, [], {}
    for k in range(n_images):
        i, j = divmod(k, side)
        image = f"img{k:05d}"
        positions[(i, j)] = k
        ra = (j - side / 2) * STEP + 0.2 * STEP * (i % 2)  # straddles RA 0
        dec = -10.0 + i * STEP
        wcs = image_wcs(ra, dec, DETECTOR, SCALE)
        polygon, ras, decs = footprint_polygon((DETECTOR, DETECTOR), wcs)
        path = outdir / "images" / f"{image}.footprint.json"
        write_json(path, {"image": image, "group": image, "ra": ras.tolist(), "dec": decs.tolist(),
                          "area_sr": abs(float(polygon.area())), "polygon": polygon_to_dict(polygon)})
        footprints.append(str(path))
        island = 2 * (i >= half) + (j >= half)  # four quadrants, no pairs across them
        sky = 1.0 + 0.1 * island + rng.normal(0, 0.02)
        factor = int(np.ceil(DETECTOR / PREVIEW_SIZE))
        header = image_wcs(ra, dec, PREVIEW_SIZE, SCALE * factor).to_header()
        header["BUNIT"] = "MJy/sr"
        data = (sky + rng.normal(0, 0.005, (PREVIEW_SIZE, PREVIEW_SIZE))).astype(np.float32)
        previews[image] = str(outdir / "images" / f"{image}.preview.fits")
        fits.PrimaryHDU(data, header=header).writeto(previews[image])
        skipped = k % 997 == 5
        rows.append((image, f"{image}.fits", "SCI", image, np.nan if skipped else sky, 0.1 * island, 1.0,
                     sky, "SKIPPED" if skipped else "COMPLETE", island, 1000, 0.0))
    sky_table = Table(rows=rows, names=("image", "file", "sci", "group", "sky", "delta_match", "sky_global",
                                        "sky_whole_image", "status", "island", "npix", "sky_initial"))
    pair_rows = []
    for (i, j), k in positions.items():
        for di, dj in ((0, 1), (1, 0), (1, 1)):
            other = positions.get((i + di, j + dj))
            if other is None or sky_table["island"][k] != sky_table["island"][other]:
                continue
            a, b = sky_table[k], sky_table[other]
            valid = rng.random() > 0.01
            before = a["sky_whole_image"] - b["sky_whole_image"] if valid else np.nan
            pair_rows.append((f"{a['group']}~{b['group']}", a["group"], b["group"], valid, a["sky"], b["sky"],
                              500, 500, before, rng.normal(0, 1e-4) if valid else np.nan,
                              "" if valid else "too few pixels in the overlap"))
    pair_table = Table(rows=pair_rows, names=("pair", "group_a", "group_b", "valid", "sky_a", "sky_b", "npix_a",
                                              "npix_b", "difference_before", "difference_after", "reason"))
    sky_path, pairs_path = outdir / "sky.ecsv", outdir / "pair_differences.ecsv"
    sky_table.write(sky_path, format="ascii.ecsv")
    pair_table.write(pairs_path, format="ascii.ecsv")
    return sky_path, pairs_path, footprints, previews


def graph_ratio(sky, pairs, footprints, previews, tmp, repeats=3):
    """Time the overlap graph as drawn now and with every edge coloured (graph.COLOURED_EDGES unbounded)."""
    from skymatchflow.diagnostics import _graph as graph
    from skymatchflow.diagnostics._stagedata import load_stage

    data = load_stage(sky, pairs, footprints, previews)
    times = {}
    for label, limit in (("now", graph.COLOURED_EDGES), ("every edge coloured", 10**9)):
        graph.COLOURED_EDGES = limit
        graph.coloured.__defaults__ = (limit,)
        began = time.perf_counter()
        for _ in range(repeats):
            graph.overlap_graph_map(data, tmp / f"graph_{limit}.png")
        times[label] = (time.perf_counter() - began) / repeats
    print(f"overlap graph, {int(data.pairs['valid'].sum())} valid pairs: {times['now']:.2f} s now, "
          f"{times['every edge coloured']:.2f} s with every edge coloured (ratio {times['now'] / times['every edge coloured']:.2f}), "
          f"load average {os.getloadavg()[0]:.1f}")


def export_tree(ref, where):
    """The repository's tree at ``ref`` as files under ``where`` (git archive: no worktree, no change to the repo)."""
    import subprocess

    where.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def solve_end(trace):
    """Seconds from launch to the solve's "Finished" line in Snakemake's output (NaN when it did not run)."""
    from bench_workflow import job_intervals

    ends = [end for rule, _, end in job_intervals(trace).values() if rule == "solve_sky" and end is not None]
    return max(ends) if ends else float("nan")


def diagnostics_jobs(workdir, log_text):
    """(diagnostics rules that ran, figures drawn, figures linked from the store) from the run's output and logs."""
    import re

    rules = sorted(set(re.findall(r"rule (diagnostics\w*):", log_text)))
    drawn = linked = 0
    for log in (workdir / "logs").glob("diagnostics*.log"):
        text = log.read_text()
        drawn += len(re.findall(r"\.png in \d", text))
        linked += len(re.findall(r"unchanged, linked", text))
    return rules, drawn, linked


def diagnostics_cpu(jobs):
    """(CPU s of the longest job after the solve, CPU s of all of them, CPU s of the map job) from benchmark rows.

    CPU, unlike wall, hardly depends on the machine's load: the longest job's
    CPU is the tail a quiet machine with two free cores would see.
    """
    after = [cpu for rule, _, _, _, cpu in jobs if rule in ("diagnostics", "diagnostics_footprints")]
    before = [cpu for rule, _, _, _, cpu in jobs if rule == "diagnostics_map"]
    return max(after, default=float("nan")), sum(after), sum(before)


def run_variant(tree, workdir, scratch, label, timeout):
    """One snakemake run of ``tree``'s workflow in ``workdir``: (bench_workflow.Run, solve end in s)."""
    from bench_workflow import PYTHON, job_benchmarks, measure

    cmd = [PYTHON, "-m", "snakemake", "--snakefile", str(tree / "workflow" / "Snakefile"), "--directory",
           str(workdir), "--cores", "2"]
    for log in (workdir / "logs").glob("diagnostics*.log") if (workdir / "logs").is_dir() else []:
        log.unlink()  # only this run's diagnostics logs are counted
    started = time.time()
    run = measure(label, cmd, scratch / f"{label}.log", cwd=workdir, timeout=timeout)
    run.jobs = job_benchmarks(workdir, started)
    return run, solve_end(run.trace)


def workflow_tails(sides, baseline, timeout=1800):
    """Cold runs of this tree and of ``baseline`` on K x K mosaics, then a re-run after a solve option changed."""
    import subprocess

    import yaml
    from bench_workflow import SEED, make_mosaic, write_workflow_config

    if baseline is None:
        baseline = subprocess.run(["git", "-C", str(REPO), "merge-base", "HEAD", "main"], capture_output=True,
                                  text=True, check=True).stdout.strip()
    lines = [f"load average at start {'/'.join(f'{x:.1f}' for x in os.getloadavg())}; baseline {baseline[:12]}", "",
             "| images | tree | cold wall (s) | solve end (s) | tail: solve end to run end (s) | "
             "CPU after the solve: longest job / all (s) | CPU of the map job (s) | "
             "re-run after match_down: false (s) | diagnostics jobs re-run | figures drawn / linked |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---|---|"]
    ratios = []
    with tempfile.TemporaryDirectory(prefix="bench_diag_wf_") as tmp:
        tmp = Path(tmp)
        trees = {"baseline": export_tree(baseline, tmp / "baseline"), "this tree": REPO}
        for side in sides:
            paths, _ = make_mosaic(tmp / f"data_{side}", side, 2048, SEED)
            results = {}
            for label, tree in trees.items():
                workdir = tmp / f"wd_{side}_{label.replace(' ', '_')}"
                workdir.mkdir()
                write_workflow_config(workdir, paths)
                cold, end = run_variant(tree, workdir, tmp, f"{side}_{label}_cold", timeout)
                config_path = workdir / "config" / "config.yaml"
                config = yaml.safe_load(config_path.read_text())
                config["match_down"] = not config.get("match_down", True)
                config_path.write_text(yaml.safe_dump(config, sort_keys=False))
                again, _ = run_variant(tree, workdir, tmp, f"{side}_{label}_rerun", timeout)
                rules, drawn, linked = diagnostics_jobs(workdir, "\n".join(line for _, line in again.trace))
                longest, total, map_cpu = diagnostics_cpu(cold.jobs)
                results[label] = (cold.wall, cold.wall - end, again.wall, longest)
                lines.append(f"| {side * side} | {label} | {cold.wall:.1f} | {end:.1f} | {cold.wall - end:.1f} | "
                             f"{longest:.2f} / {total:.2f} | {map_cpu:.2f} | "
                             f"{again.wall:.1f} | {', '.join(rules)} | {drawn} / {linked} |")
            (bw, bt, br, bc), (nw, nt, nr, nc) = results["baseline"], results["this tree"]
            ratios.append(f"{side * side} images, this tree / baseline: tail {nt / bt:.2f}, cold wall {nw / bw:.2f}, "
                          f"re-run after a solve option {nr / br:.2f}, CPU of the longest job after the solve "
                          f"{nc / bc:.2f}")
    lines += ["", *ratios, f"load average at end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}"]
    print("\n".join(lines), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="copy the figures and the summary here")
    parser.add_argument("--graph-ratio", action="store_true", help="time the graph against every edge coloured")
    parser.add_argument("--workflow-sides", type=int, nargs="+", metavar="K",
                        help="the workflow on K x K mosaics, this tree against --baseline (the tail after the solve)")
    parser.add_argument("--baseline", default=None, help="the commit to compare with (default: merge-base with main)")
    args = parser.parse_args(argv)
    if args.workflow_sides:
        sys.path.insert(0, str(REPO / "tests" / "benchmarks"))
        workflow_tails(args.workflow_sides, args.baseline)
        return
    logging.basicConfig(level=logging.INFO, format="  %(message)s")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        sky, pairs, footprints, previews = synthesise(tmp, args.images)
        print(f"synthesised {args.images} images in {time.perf_counter() - start:.1f} s")
        outputs = {name: tmp / "diagnostics" / f"{name}.png" for name in FIGURES}
        outputs["summary"] = tmp / "summary.ecsv"
        start, cpu = time.perf_counter(), time.process_time()
        summary = make_diagnostics(sky, pairs, footprints, previews, outputs)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"diagnostics of {args.images} images, {summary['n_pairs'][-1]} valid pairs: {elapsed:.1f} s wall, "
              f"{cpu:.1f} s CPU, load average {os.getloadavg()[0]:.1f} (target: well under 60 s; "
              f"wall ratio {elapsed / 60:.2f})")
        for name in FIGURES:
            print(f"  {name}.png: {outputs[name].stat().st_size / 1024:.0f} KB")
        if args.graph_ratio:
            graph_ratio(sky, pairs, footprints, previews, tmp)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for path in [*(outputs[name] for name in FIGURES), outputs["summary"]]:
                shutil.copy(path, args.keep / path.name)


if __name__ == "__main__":
    main()
