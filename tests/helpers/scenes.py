"""Synthetic scenes where the reference's overlap statistics fail, with injected truth.

Why: the opt-in options of issue 19 (pixel-wise differences, robust
weights, exclusions) must be shown to recover the injected sky where the
JWST step does not. A scene is a grid of tiles (one sky group each, TAN WCS
with fractional dithers and small rotations so that resampling is real),
each with its own sky level, gaussian noise and an astrophysical scene
defined on the sky:

* ``clean``: sky and noise only (the level every option should reach);
* ``nebula`` (scene 1): a bright diffuse nebula (peak 150 sigma, about 50
  sigma at the edge of its core) across the central overlaps, whose core is
  flagged DO_NOT_USE (with junk values, as saturation) in every other tile
  only, so the two sides of an overlap see different pixel sets;
* ``extended`` (scene 2): one bright extended source (peak 250 sigma) in one
  overlap only;
* ``artefact`` (scene 3): a faint additive glow (3 sigma, so sigma
  clipping does not remove it) in one tile only, over a third of its overlap
  with its right neighbour; ``artefact.reg`` (DS9, sky coordinates) beside
  the files covers it.

``truth.ecsv`` lists every file's injected sky. Everything is deterministic
for a seed; ``scale`` < 1 makes a miniature (tiles, overlaps and sources
shrink together) for fast tests.
"""

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from skymatchflow.io.stagefiles import atomic_path
from skymatchflow.stats.dqflags import JWST_PIXEL_FLAGS

SCENES = ("clean", "nebula", "extended", "artefact")
PIXEL_DEG = 1.0 / 3600.0
CENTER = (150.0, 2.0)


def _layout(scale):
    size = int(round(384 * scale))
    overlap = int(round(64 * scale))
    return size, size - overlap


def _field_wcs(shape):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = CENTER
    wcs.wcs.crpix = [shape[1] / 2 + 0.5, shape[0] / 2 + 0.5]
    wcs.wcs.cdelt = [-PIXEL_DEG, PIXEL_DEG]
    return wcs


def _tile_wcs(field, x0, y0, size, angle_deg):
    """A tile's WCS: its centre at field pixel (x0, y0) (0-based), rotated by ``angle_deg``."""
    ra, dec = field.all_pix2world([[x0, y0]], 0)[0]
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [size / 2 + 0.5, size / 2 + 0.5]
    t = np.deg2rad(angle_deg)
    wcs.wcs.cd = PIXEL_DEG * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    return wcs


def _gauss(x, y, x0, y0, sigma):
    return np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2.0 * sigma**2))


def make_scene(outdir, scene, scale=1.0, n_cols=4, n_rows=3, noise=0.02, seed=19):
    """Write the tiles of ``scene`` under ``outdir``; return (file paths, truth table).

    Geometry at scale 1: tiles of 384 px with 64 px overlaps (1"/px), skies
    uniform in [0, 0.5] (25 sigma).
    """
    if scene not in SCENES:
        raise ValueError(f"scene must be one of {SCENES}, not {scene!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    size, step = _layout(scale)
    field_shape = (step * (n_rows - 1) + size, step * (n_cols - 1) + size)
    field = _field_wcs(field_shape)
    fy, fx = (field_shape[0] - 1) / 2.0, (field_shape[1] - 1) / 2.0
    paths, skies = [], []
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    for r in range(n_rows):
        for c in range(n_cols):
            k = r * n_cols + c
            x0 = c * step + (size - 1) / 2.0 + rng.uniform(-0.5, 0.5)
            y0 = r * step + (size - 1) / 2.0 + rng.uniform(-0.5, 0.5)
            wcs = _tile_wcs(field, x0, y0, size, rng.uniform(-0.3, 0.3))
            ra, dec = wcs.all_pix2world(xx, yy, 0)
            gx, gy = field.all_world2pix(ra, dec, 0)
            sky = rng.uniform(0.0, 0.5)
            sci = sky + rng.normal(0.0, noise, (size, size))
            dq = np.zeros((size, size), np.uint32)
            if scene == "nebula":
                nebula = 150 * noise * _gauss(gx, gy, fx, fy, 220 * scale)
                sci += nebula
                if k % 2:
                    core = nebula > 120 * noise
                    sci[core] = 50.0  # junk, as a saturated core
                    dq[core] = JWST_PIXEL_FLAGS["DO_NOT_USE"] | JWST_PIXEL_FLAGS["SATURATED"]
            elif scene == "extended":
                sci += 250 * noise * _gauss(gx, gy, step + (size - step) / 2.0, step * 0.55, 20 * scale)
            elif scene == "artefact" and (r, c) == _artefact_tile(n_rows, n_cols):
                ax, ay, radius = _artefact_centre(n_rows, n_cols, size, step, scale)
                sci += np.where((gx - ax) ** 2 + (gy - ay) ** 2 <= radius**2, 3 * noise, 0.0)
            path = outdir / f"tile_{k:02d}.fits"
            _write_tile(path, sci.astype(np.float32), dq, wcs)
            paths.append(str(path))
            skies.append(sky)
    if scene == "artefact":
        ax, ay, radius = _artefact_centre(n_rows, n_cols, size, step, scale)
        ra, dec = field.all_pix2world([[ax, ay]], 0)[0]
        region = f"# Region file format: DS9\nfk5\ncircle({ra:.8f},{dec:.8f},{(radius + 3) * 1.0:.3f}\")\n"
        (outdir / "artefact.reg").write_text(region)
    truth = Table({"file": paths, "sky": skies})
    truth.meta["scene"] = scene
    truth.meta["noise"] = noise
    with atomic_path(outdir / "truth.ecsv") as tmp:
        truth.write(tmp, format="ascii.ecsv")
    return paths, truth


def _artefact_tile(n_rows, n_cols):
    return n_rows // 2, n_cols // 2 - 1


def _artefact_centre(n_rows, n_cols, size, step, scale):
    """Field pixel (x, y) and radius of the artefact: inside the overlap with the right neighbour."""
    r, c = _artefact_tile(n_rows, n_cols)
    x = c * step + size - (size - step) / 2.0
    y = r * step + size / 2.0
    return x, y, 60 * scale


def _write_tile(path, sci, dq, wcs):
    header = wcs.to_header()
    primary = fits.PrimaryHDU()
    hdus = [primary, fits.ImageHDU(sci, header=header, name="SCI"), fits.ImageHDU(dq, header=header, name="DQ")]
    with atomic_path(path) as tmp:
        fits.HDUList(hdus).writeto(tmp)


def recovered_rms(sky_table, truth):
    """RMS of recovered minus injected sky (mean removed), in units of the scene's noise.

    The recovered sky of a tile is its match change (``delta_match``).
    """
    injected = dict(zip(truth["file"], truth["sky"]))
    diff = np.array([row["delta_match"] - injected[row["file"]] for row in sky_table])
    diff -= diff.mean()
    return float(np.sqrt(np.mean(diff**2)) / truth.meta["noise"])
