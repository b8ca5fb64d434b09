"""Measurement: the plane sky model's solve (solve/_plane.py) on the M17 tiles, against Montage's figures (issue 27).

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/measure_m17_plane.py

For every overlapping pair of the 8 2MASS tiles (more than 1,000 common
pixels, as measure_m17.py), the pixel-wise differences A - B (B resampled
onto A, pairdifference.located_difference) and each pixel's position on one
tangent plane of the whole field (arcsec, at the mean of the tiles'
centres). One plane per tile is fitted to all of them (solve_planes, equal
pair weights: pixel least squares), and, for comparison, one constant per
tile through the same machinery. Each pair enters through the moments of
the pixels its own plane fits within 3 robust sigma (iterated, as
Montage's mFitplane clips each overlap), so that stars and the nebula's
residuals do not pull it; without that clipping the planes reach only
0.45 DN. Prints the RMS over pairs of the median
difference after each correction, in DN, beside Montage's (3.46 before,
0.74 with constant offsets, 0.054 with planes). The option ``sky_model:
plane`` is measured by bench_sky_plane.py: this measures the solve alone.
"""

import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]
from helpers.config import schema_defaults
from skymatchflow.solve._plane import pair_moments, solve_planes
from skymatchflow.stats._planeclip import clipped_plane_pixels

M17 = REPO.parent / "shared" / "data" / "m17_2mass"
MONTAGE = {"before": 3.46, "constant": 0.74, "plane": 0.054}


def load_pair_images(paths, workdir, **overrides):
    """{image: PairImage} of ``paths`` after the per-image stage (under the schema's defaults and ``overrides``)."""
    from skymatchflow.geometry.footprint import polygon_from_dict
    from skymatchflow.io.inputs import discover_images
    from skymatchflow.io.stagefiles import read_json
    from skymatchflow.products.images import product_path
    from skymatchflow.products.ruleparams import image_batch_params
    from skymatchflow.stages.image_batch import run_image_batch
    from skymatchflow.stats.pairimage import load_pair_image

    config = schema_defaults() | {"images": list(paths)} | overrides
    specs = discover_images(config)
    run_image_batch(image_batch_params(specs, config), Path(workdir) / "images")
    images = {}
    for image, spec in specs.items():
        footprint = read_json(product_path(Path(workdir) / "images", image, "footprint"))
        images[image] = load_pair_image(image, spec.file, spec.sci, polygon_from_dict(footprint["polygon"]),
                                        product_path(Path(workdir) / "images", image, "mask"))
    return images


def unit(ra, dec):
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def tangent_plane(centre):
    """(x, y) in arcsec on the gnomonic plane at unit vector ``centre``, x towards east, y towards north."""
    north = np.array([0.0, 0.0, 1.0]) - centre[2] * centre
    north /= np.linalg.norm(north)
    east = np.cross(north, centre)

    def project(vectors):
        depth = vectors @ centre
        scale = np.degrees(1.0) * 3600.0 / depth
        return scale * (vectors @ east), scale * (vectors @ north)

    return project


def overlap_planes(images, min_pixels):
    """(one plane per image, the overlaps (i, j, x, y, d), project): the fit shared with measure_ramp_plane.py.

    Every pair of ``images`` with more than ``min_pixels`` common pixels
    gives its pixel-wise differences at their positions on one tangent
    plane of the field (``project``, arcsec at the mean of the images'
    centres); each pair enters through the moments of the pixels its own
    plane fits (clipped, as Montage's mFitplane); the planes are solved
    with equal pair weights (pixel least squares).
    """
    from skymatchflow.stats._pairdifference import located_difference

    names = list(images)
    centres = [unit(*images[n].wcs.all_pix2world([images[n].shape[1] / 2], [images[n].shape[0] / 2], 0))[0]
               for n in names]
    centre = np.mean(centres, axis=0)
    project = tangent_plane(centre / np.linalg.norm(centre))
    overlaps = []
    for k, a in enumerate(names):
        for b in names[k + 1:]:
            diff, _, _, located = located_difference(images[a], images[b], {"lower": None, "upper": None})
            if diff is None or diff.size <= min_pixels:
                continue
            rows, columns = located
            ra, dec = images[a].wcs.all_pix2world(columns.astype(float), rows.astype(float), 0)
            x, y = project(unit(np.asarray(ra), np.asarray(dec)))
            overlaps.append((k, names.index(b), x, y, diff.astype(float)))
    fitted = []
    for i, j, x, y, d in overlaps:
        keep = clipped_plane_pixels(x, y, d)
        fitted.append((i, j, *pair_moments(x[keep], y[keep], d[keep])))
    return solve_planes(len(names), fitted), overlaps, project, fitted


def main():
    logging.disable(logging.WARNING)
    images = load_pair_images(sorted(str(p) for p in M17.glob("*.fits.gz")), tempfile.mkdtemp(prefix="m17-plane-"),
                              dqbits=None)
    names = list(images)
    planes, overlaps, _, fitted = overlap_planes(images, 1000)
    constant_pairs = []
    for i, j, moments, vector in fitted:  # the level's moments alone: tilts stay 0 (minimum norm)
        constant_pairs.append((i, j, np.diag([moments[0, 0], 0.0, 0.0]), np.array([vector[0], 0.0, 0.0])))
    constants = solve_planes(len(names), constant_pairs)
    results = {"before": [], "constant": [], "plane": []}
    for i, j, x, y, d in overlaps:  # medians over every pixel of the overlap, clipped or not
        phi = np.stack([np.ones_like(x), x, y])
        results["before"].append(np.median(d))
        results["constant"].append(np.median(d - (constants[i] - constants[j]) @ phi))
        results["plane"].append(np.median(d - (planes[i] - planes[j]) @ phi))
    print(f"{len(overlaps)} overlapping pairs of {len(names)} tiles; RMS of the overlap medians (DN):")
    print("| correction | this solve | Montage |")
    print("|---|---:|---:|")
    for name, medians in results.items():
        print(f"| {name} | {np.sqrt(np.mean(np.square(medians))):.3f} | {MONTAGE[name]} |")
    tilts = np.hypot(planes[:, 1], planes[:, 2])
    print(f"tilts: {tilts.min():.2e}-{tilts.max():.2e} DN/arcsec (1 arcsec = 1 px)")


if __name__ == "__main__":
    main()
