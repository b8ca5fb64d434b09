"""The demo mosaic's pixels: the scene on the sky, detector defects, cosmic rays, noise and DQ flags."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy.wcs import WCS

from skymatchflow.demo._layout import (
    _COSMIC_RAYS_PER_MPIX,
    _DEAD_FRACTION,
    _HOT_FRACTION,
    _WARM_FRACTION,
    NOISE_SIGMA,
    PIXEL_SCALE,
    POINTING,
    PSF_SIGMA,
    REFERENCE_BORDER,
    SATURATION_LEVEL,
    STAR_DENSITY,
    _detector_center,
    _layout_scale,
    _sky_offset,
    _sky_to_tan,
    _tan_to_sky,
)
from skymatchflow.stats.dqflags import JWST_PIXEL_FLAGS

_F = JWST_PIXEL_FLAGS  # the DQ bit values the masks are built with


# --- the astrophysical scene (defined on the sky) -----------------------------
@dataclass(frozen=True)
class _Scene:
    star_ra: np.ndarray
    star_dec: np.ndarray
    star_peak: np.ndarray  # MJy/sr at the PSF peak
    gal_ra: float
    gal_dec: float
    gal_reff: float  # arcsec, half-light radius along the major axis
    gal_q: float  # axis ratio
    gal_pa: float  # deg, east of north
    gal_ie: float  # MJy/sr at r_eff
    gal_n: float  # Sersic index


def _make_scene(rng, plan, dets, detector_size) -> _Scene:
    """Stars over the mosaic's bounding box plus one galaxy in an overlap.

    Field stars follow a truncated power law in peak brightness (mostly
    faint, a few saturating). One bright, saturating star is placed near the
    middle of every detector's overlap with its counterparts in all exposures,
    so that saturation and its masking occur in every file, even on tiny test
    detectors.
    """
    n = detector_size
    half_w = n * PIXEL_SCALE / 2.0
    xs, ys = [], []
    for exp in plan:
        for det in dets:
            cu, cv = _detector_center(det, n)
            for du in (-half_w, half_w):
                for dv in (-half_w, half_w):
                    x, y = _sky_offset(exp, cu + du, cv + dv)
                    xs.append(x)
                    ys.append(y)
    margin = 1.0
    x0, x1 = min(xs) - margin, max(xs) + margin
    y0, y1 = min(ys) - margin, max(ys) + margin
    n_field = max(20, int(round(STAR_DENSITY * (x1 - x0) * (y1 - y0))))
    sx = rng.uniform(x0, x1, n_field)
    sy = rng.uniform(y0, y1, n_field)
    # truncated power law N(>F) ~ F^-alpha between fmin and fmax
    alpha, fmin, fmax = 0.5, 0.03, 800.0
    uu = rng.uniform(0.0, 1.0, n_field)
    lo, hi = fmin**-alpha, fmax**-alpha
    peaks = (lo - uu * (lo - hi)) ** (-1.0 / alpha)

    # centre of each detector's overlap with its exposure-2 counterpart, in
    # exposure 1's focal plane (exposure 1 has no dither and no rotation)
    du, dv = plan[1].dither if len(plan) > 1 else (0.0, 0.0)
    # the bright stars sit mid-way across the dithers, which every exposure's counterpart detector covers
    us, vs = [exp.dither[0] for exp in plan], [exp.dither[1] for exp in plan]
    mu, mv = (max(us) + min(us)) / 2.0, (max(vs) + min(vs)) / 2.0
    bx, by, bp = [], [], []
    for det in dets:
        cu, cv = _detector_center(det, n)
        ju, jv = rng.uniform(-0.1, 0.1, 2) * 2 * half_w
        x, y = _sky_offset(plan[0], cu + mu + ju, cv + mv + jv)
        bx.append(x)
        by.append(y)
        bp.append(rng.uniform(150.0, 600.0))

    star_x = np.concatenate([sx, bx])
    star_y = np.concatenate([sy, by])
    star_ra, star_dec = _tan_to_sky(star_x, star_y, *POINTING)

    scale = _layout_scale(n)
    cu, cv = _detector_center(dets[0], n)
    gx, gy = _sky_offset(
        plan[0], cu + du / 2 + 0.15 * 2 * half_w, cv + dv / 2 - 0.10 * 2 * half_w
    )
    gal_ra, gal_dec = _tan_to_sky(gx, gy, *POINTING)
    return _Scene(
        star_ra=star_ra,
        star_dec=star_dec,
        star_peak=np.concatenate([peaks, bp]),
        gal_ra=float(gal_ra),
        gal_dec=float(gal_dec),
        gal_reff=1.5 * scale,
        gal_q=0.6,
        gal_pa=35.0,
        gal_ie=0.4,
        gal_n=1.0,
    )


def _render_scene(scene: _Scene, wcs: WCS, n: int) -> np.ndarray:
    """Scene surface brightness (MJy/sr) on one detector's pixel grid.

    Stars are drawn in small stamps around their pixel position in *this*
    file's WCS, and the galaxy is evaluated at this file's pixel positions
    mapped to the sky, so overlapping exposures see the same sky.
    """
    img = np.zeros((n, n), dtype=np.float64)
    r = 6  # stamp half-size in pixels (> 6 sigma)
    px, py = wcs.all_world2pix(scene.star_ra, scene.star_dec, 0, quiet=True)
    ok = (
        np.isfinite(px)
        & np.isfinite(py)
        & (px > -r - 1)
        & (px < n + r)
        & (py > -r - 1)
        & (py < n + r)
    )
    two_s2 = 2.0 * PSF_SIGMA**2
    for x, y, peak in zip(px[ok], py[ok], scene.star_peak[ok]):
        ix, iy = int(round(x)), int(round(y))
        xa, xb = max(ix - r, 0), min(ix + r + 1, n)
        ya, yb = max(iy - r, 0), min(iy + r + 1, n)
        if xa >= xb or ya >= yb:
            continue
        gx = np.exp(-((np.arange(xa, xb) - x) ** 2) / two_s2)
        gy = np.exp(-((np.arange(ya, yb) - y) ** 2) / two_s2)
        img[ya:yb, xa:xb] += peak * np.outer(gy, gx)

    # galaxy: Sersic profile evaluated in a box around its centre
    (gpx,), (gpy,) = wcs.all_world2pix([scene.gal_ra], [scene.gal_dec], 0, quiet=True)
    if not (np.isfinite(gpx) and np.isfinite(gpy)):
        return img
    rbox = int(math.ceil(7.0 * scene.gal_reff / PIXEL_SCALE))
    xa, xb = max(int(gpx) - rbox, 0), min(int(gpx) + rbox + 1, n)
    ya, yb = max(int(gpy) - rbox, 0), min(int(gpy) + rbox + 1, n)
    if xa < xb and ya < yb:
        yy, xx = np.mgrid[ya:yb, xa:xb]
        ra, dec = wcs.all_pix2world(xx.ravel(), yy.ravel(), 0)
        xi, eta = _sky_to_tan(ra, dec, scene.gal_ra, scene.gal_dec)
        pa = math.radians(scene.gal_pa)  # east of north
        major = xi * math.sin(pa) + eta * math.cos(pa)
        minor = xi * math.cos(pa) - eta * math.sin(pa)
        rr = np.hypot(major, minor / scene.gal_q) / scene.gal_reff
        bn = 2.0 * scene.gal_n - 1.0 / 3.0 + 0.009876 / scene.gal_n
        prof = scene.gal_ie * np.exp(-bn * (rr ** (1.0 / scene.gal_n) - 1.0))
        img[ya:yb, xa:xb] += prof.reshape(yy.shape)
    return img


# --- per-file detector effects -------------------------------------------------
def _bad_pixel_map(seed: int, det_index: int, n: int) -> dict[str, np.ndarray]:
    """Hot/dead/warm pixel indices of one detector (same in all exposures)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, det_index]))
    npix = n * n
    counts = {
        "HOT": max(1, int(round(_HOT_FRACTION * npix))),
        "DEAD": max(1, int(round(_DEAD_FRACTION * npix))),
        "WARM": max(1, int(round(_WARM_FRACTION * npix))),
    }
    idx = rng.choice(npix, size=sum(counts.values()), replace=False)
    out, start = {}, 0
    for name, c in counts.items():
        out[name] = idx[start : start + c]
        start += c
    out["hot_value"] = rng.uniform(2.0, 50.0, counts["HOT"])
    out["warm_value"] = rng.uniform(0.05, 0.5, counts["WARM"])
    return out


def _add_cosmic_rays(rng, sci, dq, n):
    """Short cosmic-ray tracks (1-4 px) with very high values, JUMP_DET."""
    n_cr = max(3, int(round(_COSMIC_RAYS_PER_MPIX * (n / 1024.0) ** 2)))
    steps = np.array(
        [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    )
    starts = rng.integers(0, n, size=(n_cr, 2))
    lengths = rng.integers(1, 5, size=n_cr)
    dirs = rng.integers(0, len(steps), size=n_cr)
    for (y, x), length, d in zip(starts, lengths, dirs):
        ys = np.clip(y + steps[d][0] * np.arange(length), 0, n - 1)
        xs = np.clip(x + steps[d][1] * np.arange(length), 0, n - 1)
        sci[ys, xs] += rng.uniform(20.0, 800.0, length)
        dq[ys, xs] |= _F["JUMP_DET"]


def _make_file_data(seed, exp, det_index, sky, scene, wcs, n):
    """SCI (float32) and DQ (uint32) arrays of one file."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1, exp.index, det_index]))
    signal = sky + _render_scene(scene, wcs, n)
    sci = signal + rng.normal(0.0, NOISE_SIGMA, size=(n, n))
    dq = np.zeros((n, n), dtype=np.uint32)

    sat = signal >= SATURATION_LEVEL
    sci[sat] = SATURATION_LEVEL
    dq[sat] |= _F["SATURATED"] | _F["DO_NOT_USE"]

    _add_cosmic_rays(rng, sci, dq, n)

    bad = _bad_pixel_map(seed, det_index, n)
    sci.flat[bad["HOT"]] = sky + bad["hot_value"]
    dq.flat[bad["HOT"]] |= _F["HOT"] | _F["DO_NOT_USE"]
    sci.flat[bad["DEAD"]] = 0.0
    dq.flat[bad["DEAD"]] |= _F["DEAD"] | _F["DO_NOT_USE"]
    sci.flat[bad["WARM"]] += bad["warm_value"]
    dq.flat[bad["WARM"]] |= _F["WARM"]

    b = REFERENCE_BORDER
    border = np.ones((n, n), dtype=bool)
    border[b : n - b, b : n - b] = False
    sci[border] = np.nan
    dq[border] = _F["DO_NOT_USE"] | _F["NON_SCIENCE"] | _F["REFERENCE_PIXEL"]
    return sci.astype(np.float32), dq
