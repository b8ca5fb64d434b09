"""``sky_model: plane`` end to end: injected planes recovered to the noise, subtracted in the matched copies."""


import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from helpers.config import schema_defaults
from helpers.in_process import run_in_process
from helpers.scenes import make_scene
from helpers.workflow_runner import run_snakemake, write_config
from skymatchflow.solve.plane_model import plane_at, tangent_offsets

pytestmark = pytest.mark.e2e

#: tilt across a tile, in units of the noise: 4 sigma, far above what constants can absorb
TILT_SIGMA = 4.0


def inject_planes(paths, noise, seed=7):
    """Add to each tile a plane of TILT_SIGMA noise across it, in a direction of its own; return each injected map."""
    rng = np.random.default_rng(seed)
    injected = []
    for path in paths:
        with fits.open(path, mode="update") as hdul:
            sci = hdul["SCI"].data
            yy, xx = np.mgrid[0 : sci.shape[0], 0 : sci.shape[1]].astype(float)
            angle = rng.uniform(0.0, 2.0 * np.pi)
            plane = TILT_SIGMA * noise * ((xx - xx.mean()) * np.cos(angle) + (yy - yy.mean()) * np.sin(angle)) / sci.shape[1]
            hdul["SCI"].data = (sci + plane).astype(np.float32)
            injected.append(plane)
    return injected


def sky_positions(path):
    with fits.open(path) as hdul:
        shape, wcs = hdul["SCI"].data.shape, WCS(hdul["SCI"].header)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return wcs.all_pix2world(xx.ravel().astype(float), yy.ravel().astype(float), 0), shape


def truth_error(sky, paths, truth, injected):
    """RMS over every pixel of the solved sky minus the injected one, in noise units, the best common plane removed.

    No overlap can measure one plane added to every tile (the zero point of the planes).
    """
    errors, xs, ys = [], [], []
    rows = {row["file"]: row for row in sky}
    for path, level, plane in zip(paths, truth["sky"], injected):
        (ra, dec), shape = sky_positions(path)
        row = rows[path]
        solved = plane_at(row, ra, dec) if "plane_tilt_x" in sky.colnames else np.full(ra.shape, row["delta_match"])
        errors.append(solved - (level + plane.ravel()))
        x, y = tangent_offsets(ra, dec, 150.0, 2.0)
        xs.append(x)
        ys.append(y)
    error, x, y = np.concatenate(errors), np.concatenate(xs), np.concatenate(ys)
    phi = np.stack([np.ones_like(x), x, y], axis=1)
    residual = error - phi @ np.linalg.lstsq(phi, error, rcond=None)[0]
    return float(np.sqrt(np.mean(residual**2)) / truth.meta["noise"])


def test_plane_sky_model_recovers_injected_planes(tmp_path):
    paths, truth = make_scene(tmp_path / "scene", "clean", scale=0.3, n_cols=3, n_rows=2)
    injected = inject_planes(paths, truth.meta["noise"])
    config = {"images": paths, "skymethod": "match", "pair_statistic": "difference", "sky_model": "plane",
              "subtract": True, "pair_batches": 2}
    write_config(tmp_path, **config)
    result = run_snakemake(tmp_path, "all", "matched")
    assert result.returncode == 0, result.stderr[-4000:]
    sky = Table.read(tmp_path / "results" / "sky.ecsv")
    assert {"plane_tilt_x", "plane_tilt_y", "plane_ra0", "plane_dec0"} <= set(sky.colnames)
    plane_error = truth_error(sky, paths, truth, injected)
    # the matched copy: input minus the plane at every pixel, and the plane in its header
    row = sky[0]
    matched = tmp_path / "results" / "matched" / row["file"].split("/")[-1]
    (ra, dec), shape = sky_positions(row["file"])
    with fits.open(row["file"]) as source, fits.open(matched) as copy:
        header = copy[0].header  # one image per file: the primary header, as the reference
        assert header["BKGMODEL"] == "plane" and header["BKGLEVEL"] == pytest.approx(row["sky"])
        assert header["BKGTLTX"] == pytest.approx(row["plane_tilt_x"])
        expected = source["SCI"].data - plane_at(row, ra, dec).reshape(shape).astype(np.float32)
        assert np.allclose(copy["SCI"].data, expected, atol=1e-5)
        assert not np.allclose(copy["SCI"].data - copy["SCI"].data.mean(), source["SCI"].data - source["SCI"].data.mean(),
                               atol=0.1 * truth.meta["noise"])
    # the same scene with constants (in process, the same stage code): the planes cannot be represented
    constant, _ = run_in_process(schema_defaults() | config | {"sky_model": "constant"}, tmp_path / "constant")
    assert "plane_tilt_x" not in constant.colnames
    constant_error = truth_error(constant, paths, truth, injected)
    # to the noise: the solved sky is off by a fifth of one pixel's noise at most (0.12 measured), constants by more
    # than the injected tilts' own RMS (1.3 measured)
    assert plane_error < 0.2 and constant_error > 5 * plane_error, (plane_error, constant_error)
    # the option is part of the pair records' key: switching it re-writes the pair batch plans (the overlap
    # graph's job, whose pair batches then follow), not the images
    write_config(tmp_path, **(config | {"sky_model": "constant"}))
    dry = run_snakemake(tmp_path, "all", "--dry-run", "--quiet", "rules")
    assert "overlap_graph" in dry.stdout and "image_batch" not in dry.stdout, dry.stdout
    # switching back before a run: the plans get their old bytes back, so no pair record is made again
    records = {p: p.stat().st_mtime_ns for p in (tmp_path / "results" / "pairs").glob("*/*.json")}
    write_config(tmp_path, **config)
    rerun = run_snakemake(tmp_path, "all", "matched")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert records and {p: p.stat().st_mtime_ns for p in records} == records
    assert "image_batch" not in rerun.stderr
