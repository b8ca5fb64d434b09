"""Measurement: sky matching of the 2MASS M17 tiles (a nebula) with each option (issue 19).

Runs the workflow's stage code in process (skymethod match) on the eight
tiles of ../shared/data/m17_2mass with the defaults and with the opt-in
options, and prints, per statistic and option, the RMS over overlapping
pairs of the median pixel-wise difference after matching (DN). Montage's
constant-offset matching of the same tiles gives 0.74 DN
(../shared/data/README.md).

The median pixel-wise difference of a pair is np.median(A - B) over the
pixels good in both inside the overlap (B resampled onto A's grid with
reproject, as pair_statistic difference does); after matching it is that
median minus the difference of the two tiles' solved skies.

    .venv/bin/python tests/benchmarks/measure_m17.py [--workdir /tmp/m17]
"""

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers
from helpers.config import schema_defaults
from helpers.in_process import run_in_process

M17 = REPO.parent / "shared" / "data" / "m17_2mass"
MONTAGE_DN = 0.74
OPTIONS = {
    "defaults": {},
    "difference": {"pair_statistic": "difference"},
    "robust (huber)": {"match_weights": "robust"},
    "difference + robust (huber)": {"pair_statistic": "difference", "match_weights": "robust"},
    "difference + robust (tukey)": {"pair_statistic": "difference", "match_weights": "robust", "robust_loss": "tukey"},
}


def m17_config(skystat, options):
    paths = sorted(str(p) for p in M17.glob("*.fits.gz"))
    defaults = schema_defaults()
    return defaults | {"images": paths, "skymethod": "match", "skystat": skystat} | options


def pair_medians(workdir):
    """{(image a, image b): median pixel-wise A - B} over every overlapping pair of tiles."""
    from skymatchflow.geometry.footprint import polygon_from_dict
    from skymatchflow.io.inputs import discover_images
    from skymatchflow.io.stagefiles import read_json
    from skymatchflow.products.images import product_path
    from skymatchflow.products.ruleparams import image_batch_params
    from skymatchflow.stages.image_batch import run_image_batch
    from skymatchflow.stats._pairdifference import member_difference
    from skymatchflow.stats.pairimage import load_pair_image

    config = m17_config("median", {})
    specs = discover_images(config)
    images_dir = Path(workdir) / "medians"
    run_image_batch(image_batch_params(specs, config), images_dir)
    images = {}
    for image, spec in specs.items():
        footprint = read_json(product_path(images_dir, image, "footprint"))
        images[image] = load_pair_image(image, spec.file, spec.sci, polygon_from_dict(footprint["polygon"]),
                                        product_path(images_dir, image, "mask"))
    names = list(images)
    medians = {}
    for k, a in enumerate(names):
        for b in names[k + 1:]:
            diff, _, _ = member_difference(images[a], images[b], {"lower": None, "upper": None})
            if diff is not None and diff.size > 1000:
                medians[(a, b)] = float(np.median(diff))
    return medians


def rms_after(sky, medians):
    """RMS over pairs of (median A - B) minus the solved sky difference."""
    level = {row["image"]: row["sky"] for row in sky}
    residuals = [m - (level[a] - level[b]) for (a, b), m in medians.items()]
    return float(np.sqrt(np.mean(np.square(residuals))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--statistics", nargs="*", default=["mode", "median", "mean"])
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="m17-"))
    medians = pair_medians(workdir)
    before = float(np.sqrt(np.mean(np.square(list(medians.values())))))
    print(f"{len(medians)} overlapping pairs; RMS of the median differences before matching: {before:.2f} DN; "
          f"Montage (constant offsets): {MONTAGE_DN} DN")
    print("| statistic | " + " | ".join(OPTIONS) + " |")
    print("|---|" + "---:|" * len(OPTIONS))
    for skystat in args.statistics:
        cells = []
        for options in OPTIONS.values():
            sky, _ = run_in_process(m17_config(skystat, options), workdir / f"{skystat}-{len(cells)}")
            cells.append(f"{rms_after(sky, medians):.2f}")
        print(f"| {skystat} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
