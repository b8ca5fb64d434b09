"""Synthetic JWST-like mosaics for the reference parity suite (fixed seeds).

Every file has the JWST layout: an empty primary HDU with the exposure
keywords (PROGRAM, OBSERVTN, VISIT, VISITGRP, SEQ_ID, ACT_ID, EXPOSURE), so
that all detectors of one exposure form one sky group, then SCI (float32,
celestial TAN or TAN-SIP WCS) and DQ (uint32, JWST bit values).

Pixels: a sky level per exposure plus a small per-detector offset, a weak
gradient, gaussian noise, a few stars, cosmic rays (JUMP_DET, very high),
hot pixels (DO_NOT_USE, junk but finite values), saturated star cores
(SATURATED|DO_NOT_USE), a NaN reference-pixel border
(DO_NOT_USE|NON_SCIENCE|REFERENCE_PIXEL), and a few unflagged NaNs.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from helpers.images import tan_wcs
from skymatchflow.stats.dqflags import JWST_PIXEL_FLAGS as F

PIXEL_SCALE = 0.1  # arcsec / px
NOISE = 1.0
BORDER = 2
POINTING = (150.1, 2.2)


@dataclass
class Detector:
    """One image of a mosaic: where it points and what it contains."""

    name: str
    offset: tuple  # arcsec (east, north) of its centre from POINTING
    rotation: float  # deg
    sky: float
    exposure: object = None  # EXPOSURE keyword (None: no exposure keywords at all)
    shape: tuple = (120, 140)
    sip: bool = False
    all_masked: bool = False  # every pixel DO_NOT_USE
    constant: object = None  # SCI = this constant everywhere (no noise, no DQ)
    background: dict = field(default_factory=dict)  # BKGLEVEL / BKGSUB for the primary header


def detector_wcs(det):
    dec = POINTING[1] + det.offset[1] / 3600.0
    ra = POINTING[0] + det.offset[0] / 3600.0 / math.cos(math.radians(dec))
    sip = False
    if det.sip:
        # about 0.3 px at the corners
        ny, nx = det.shape
        a = np.zeros((3, 3))
        b = np.zeros((3, 3))
        a[2, 0] = 0.3 / (nx / 2) ** 2
        a[1, 1] = -0.2 / (nx * ny / 4)
        b[0, 2] = 0.3 / (ny / 2) ** 2
        b[2, 0] = -0.1 / (nx / 2) ** 2
        sip = (a, b)
    return tan_wcs(det.shape, (ra, dec), PIXEL_SCALE, det.rotation, sip)


def detector_pixels(det, seed):
    """(SCI float32, DQ uint32) of one detector."""
    ny, nx = det.shape
    if det.constant is not None:
        return np.full(det.shape, det.constant, np.float32), np.zeros(det.shape, np.uint32)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ny, 0:nx]
    sci = det.sky + 0.002 * (xx - nx / 2) - 0.001 * (yy - ny / 2) + rng.normal(0.0, NOISE, det.shape)
    dq = np.zeros(det.shape, np.uint32)
    # stars: gaussian blobs, the brightest with saturated (DO_NOT_USE) cores
    for _ in range(6):
        x0, y0 = rng.uniform(5, nx - 5), rng.uniform(5, ny - 5)
        peak = rng.uniform(20, 400)
        blob = peak * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.5**2))
        sci += blob
        if peak > 200:
            core = blob > 150
            dq[core] |= F["SATURATED"] | F["DO_NOT_USE"]
    # cosmic rays: very high, JUMP_DET only (usable under '~DO_NOT_USE+NON_SCIENCE')
    cr = rng.random(det.shape) < 0.004
    sci[cr] += rng.uniform(50, 500, cr.sum())
    dq[cr] |= F["JUMP_DET"]
    # hot pixels: junk but finite, DO_NOT_USE|HOT
    hot = rng.random(det.shape) < 0.003
    sci[hot] = rng.uniform(1e3, 1e4, hot.sum())
    dq[hot] |= F["DO_NOT_USE"] | F["HOT"]
    # warm pixels: WARM only, mildly high
    warm = rng.random(det.shape) < 0.003
    sci[warm] += 5.0
    dq[warm] |= F["WARM"]
    # a few NaNs without any DQ flag
    nan = rng.random(det.shape) < 0.002
    sci[nan] = np.nan
    # reference-pixel border: NaN, DO_NOT_USE|NON_SCIENCE|REFERENCE_PIXEL
    border = np.ones(det.shape, bool)
    border[BORDER:-BORDER, BORDER:-BORDER] = False
    sci[border] = np.nan
    dq[border] |= F["DO_NOT_USE"] | F["NON_SCIENCE"] | F["REFERENCE_PIXEL"]
    if det.all_masked:
        dq |= F["DO_NOT_USE"]
    return sci.astype(np.float32), dq


def write_detector(path, det, seed):
    """Write one JWST-like file; returns its path."""
    sci, dq = detector_pixels(det, seed)
    primary = fits.Header()
    primary["TELESCOP"] = "JWST"
    primary["INSTRUME"] = "NIRCAM"
    primary["DETECTOR"] = det.name.upper()
    if det.exposure is not None:
        for key, value in (("PROGRAM", "04321"), ("OBSERVTN", "002"), ("VISIT", "001"), ("VISITGRP", "02"),
                           ("SEQ_ID", "1"), ("ACT_ID", "01"), ("EXPOSURE", f"{det.exposure:05d}")):
            primary[key] = value
    for key, value in det.background.items():
        primary[key] = value
    header = detector_wcs(det).to_header(relax=True)
    fits.HDUList([
        fits.PrimaryHDU(header=primary),
        fits.ImageHDU(sci, header=header, name="SCI"),
        fits.ImageHDU(dq, name="DQ"),
    ]).writeto(path, overwrite=True)
    return Path(path)


def write_mosaic(outdir, detectors, seed):
    """Write every detector (file name = detector name) in the given order; returns the paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return [write_detector(outdir / f"{det.name}_cal.fits", det, seed * 1000 + k)
            for k, det in enumerate(detectors)]


def exposure_detectors(n_exposures=3, per_row=2, rows=1, shape=(120, 140), base=(0.0, 0.0),
                       skies=(20.0, 23.5, 21.2, 25.0), rotations=(0.0, 7.0, -11.0, 3.0),
                       dither=(3.1, 2.3), gap=1.0, sip_every=2, prefix="jw", first_exposure=1,
                       background=None):
    """Detectors of ``n_exposures`` exposures, each a ``rows`` x ``per_row`` grid of detectors.

    Exposure k is dithered by k*dither arcsec and rotated by rotations[k];
    detectors of one exposure do not overlap (gap arcsec), detectors of
    different exposures do. Every ``sip_every``-th detector has a SIP distortion.
    """
    ny, nx = shape
    width, height = nx * PIXEL_SCALE, ny * PIXEL_SCALE
    dets = []
    count = 0
    for k in range(n_exposures):
        theta = math.radians(rotations[k % len(rotations)])
        for r in range(rows):
            for c in range(per_row):
                u = (c - (per_row - 1) / 2) * (width + gap)
                v = (r - (rows - 1) / 2) * (height + gap)
                # (u, v) along the pixel axes; pixel +x points to (-cos, sin) and
                # +y to (sin, cos) in (east, north), as the CD matrix says
                east = -u * math.cos(theta) + v * math.sin(theta)
                north = u * math.sin(theta) + v * math.cos(theta)
                dets.append(Detector(
                    name=f"{prefix}_e{k + first_exposure}_d{r * per_row + c + 1}",
                    offset=(base[0] + east + k * dither[0], base[1] + north + k * dither[1]),
                    rotation=rotations[k % len(rotations)],
                    sky=skies[k % len(skies)] + 0.3 * (r * per_row + c),
                    exposure=k + first_exposure, shape=shape,
                    sip=(sip_every > 0 and count % sip_every == 1),
                    background=dict(background or {}),
                ))
                count += 1
    return dets


def main_mosaic(outdir, seed=11, shape=(120, 140), single=False):
    """2 exposures x 2 detectors (two sky groups of two), rotated and dithered.

    With ``single``: also one single image (no exposure keywords: a group of
    its own) overlapping both exposures, between them in the input order;
    three sky groups that all overlap make the match a real weighted
    least-squares problem. Without it the polygon intersections (the
    dominant cost on both sides) are few, for the big parameter grid.
    """
    dets = exposure_detectors(2, 2, 1, shape=shape)
    if single:
        dets.insert(2, Detector("single", (-4.0, 5.0), -20.0, 26.0, shape=shape, sip=True))
    return write_mosaic(outdir, dets, seed)


def island_mosaic(outdir, seed=12):
    """Three disconnected clusters and one isolated image.

    Cluster A: three single images (no exposure keywords: one group each) in
    a chain (1-2 and 2-3 overlap, 1-3 do not). Cluster B: two exposures of
    two detectors (two groups of two). Cluster C: two single images.
    Isolated: one image far away. Clusters are ~1 arcmin apart.
    """
    shape = (100, 110)
    dets = [
        Detector("a1", (-60.0, 0.0), 0.0, 30.0, shape=shape),
        Detector("a2", (-52.0, 3.0), 9.0, 33.0, shape=shape, sip=True),
        Detector("a3", (-44.0, 6.0), -4.0, 31.0, shape=shape),
    ]
    dets += exposure_detectors(2, 2, 1, shape=shape, base=(0.0, 0.0), skies=(40.0, 44.0),
                               rotations=(0.0, 5.0), prefix="b")
    dets += [
        Detector("c1", (60.0, 40.0), 20.0, 12.0, shape=shape),
        Detector("c2", (64.0, 44.0), 25.0, 15.5, shape=shape),
        Detector("iso", (0.0, -80.0), 0.0, 18.0, shape=shape),
    ]
    # interleave the clusters in the input order
    order = ["a1", "b_e1_d1", "c1", "a2", "iso", "b_e1_d2", "b_e2_d1", "c2", "a3", "b_e2_d2"]
    by_name = {d.name: d for d in dets}
    return write_mosaic(outdir, [by_name[n] for n in order], seed)


def masked_mosaic(outdir, seed=13, position=0):
    """Two exposures of two detectors plus one single image with every pixel DO_NOT_USE.

    The all-masked image overlaps the others; it has no exposure keywords (a
    group of its own) and is placed at ``position`` in the input order.
    """
    shape = (110, 120)
    dets = exposure_detectors(2, 2, 1, shape=shape, skies=(10.0, 12.5), rotations=(0.0, -6.0), prefix="m")
    dets.insert(position, Detector("masked", (2.0, 1.0), 3.0, 50.0, shape=shape, all_masked=True))
    return write_mosaic(outdir, dets, seed)


def previous_run_mosaic(outdir, seed=14, subtracted=True):
    """The main layout (smaller) where every file carries BKGLEVEL/BKGSUB of an earlier run.

    The data were lowered by BKGLEVEL when ``subtracted`` (different levels per
    detector, as an earlier run would leave them).
    """
    shape = (100, 120)
    dets = exposure_detectors(3, 2, 1, shape=shape, prefix="prev")
    levels = [17.25, 17.5, 19.0, 20.125, 18.5, 21.75]
    for det, level in zip(dets, levels):
        det.background = {"BKGLEVEL": level, "BKGSUB": subtracted}
        if subtracted:
            det.sky -= level
    return write_mosaic(outdir, dets, seed)


def constant_mosaic(outdir, seed=15):
    """Two overlapping single images, one of them constant (no noise): a single-bin histogram."""
    shape = (100, 100)
    dets = [
        Detector("noisy", (0.0, 0.0), 0.0, 20.0, shape=shape),
        Detector("flat", (4.0, 2.0), 10.0, 0.0, shape=shape, constant=7.0),
    ]
    return write_mosaic(outdir, dets, seed)
