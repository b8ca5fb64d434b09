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

from astropy.io import fits  # noqa: E402
from astropy.table import Table  # noqa: E402
from astropy.wcs import WCS  # noqa: E402

from skymatchflow.diagnostics.stage import FIGURES, make_diagnostics  # noqa: E402
from skymatchflow.geometry.footprint import footprint_polygon, polygon_to_dict  # noqa: E402
from helpers.stagefiles import write_json  # noqa: E402
from skymatchflow.stages.preview import PREVIEW_SIZE  # noqa: E402

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
    from skymatchflow.diagnostics import graph
    from skymatchflow.diagnostics.stagedata import load_stage

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="copy the figures and the summary here")
    parser.add_argument("--graph-ratio", action="store_true", help="time the graph against every edge coloured")
    args = parser.parse_args(argv)
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
